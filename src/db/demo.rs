//! The demo town: 马桥镇 under 闵行区, its villages and offices, a category
//! tree for village life, routing rules that reach someone for every
//! category, the 2026–27 holidays, and one account per role.

use super::entities::{calendar_day, category, routing_rule, unit, user};
use super::{Error, Result, begin_write, is_empty};
use crate::domain::role::Role;
use crate::password;
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, DatabaseConnection, DatabaseTransaction};

/// Password of every demo account.
pub const DEMO_PASSWORD: &str = "zzh-demo-2026";

/// The demo accounts: username, role, display name, unit name.
pub const DEMO_ACCOUNTS: [(&str, Role, &str, &str); 6] = [
    ("admin", Role::Admin, "区信息中心管理员", "闵行区"),
    ("dispatcher", Role::Dispatcher, "马桥镇派单员", "马桥镇"),
    ("handler", Role::Handler, "城建办承办人", "城建办"),
    ("cadre", Role::Cadre, "金星村村干部", "金星村"),
    ("supervisor", Role::Supervisor, "马桥镇督查", "马桥镇"),
    ("cunwei", Role::Handler, "金星村村委承办人", "金星村"),
];

const VILLAGES: [&str; 7] = [
    "金星村",
    "马桥村",
    "同心村",
    "彭渡村",
    "民主村",
    "联建村",
    "吴会村",
];

const OFFICES: [&str; 6] = [
    "城建办",
    "农业服务中心",
    "派出所",
    "水务站",
    "社区事务受理中心",
    "综合执法队",
];

/// (top category, limit, [(child, limit, bring note)], handling office of the top).
type CategorySpec = (
    &'static str,
    i32,
    &'static [(&'static str, i32, Option<&'static str>)],
    &'static str,
);

const CATEGORIES: [CategorySpec; 8] = [
    (
        "道路交通",
        10,
        &[
            ("路灯", 5, None),
            ("道路破损", 10, None),
            ("交通安全设施", 10, None),
            ("公交出行", 15, None),
        ],
        "城建办",
    ),
    (
        "环境卫生",
        5,
        &[
            ("垃圾清运", 2, None),
            ("河道保洁", 5, None),
            ("违章搭建", 15, Some("如有，请提供现场照片及搭建位置")),
            ("噪声扰民", 5, None),
        ],
        "综合执法队",
    ),
    (
        "水电气",
        3,
        &[
            ("自来水", 3, Some("请提供水费户号")),
            ("排水防汛", 3, None),
            ("供电", 3, Some("请提供电费户号")),
        ],
        "水务站",
    ),
    (
        "农业农村",
        10,
        &[
            ("农田水利", 10, None),
            ("土地承包", 15, Some("请携带土地承包经营权证、身份证")),
            ("惠农补贴", 10, Some("请携带身份证、银行卡（折）")),
        ],
        "农业服务中心",
    ),
    (
        "社会保障",
        10,
        &[
            ("医保社保", 10, Some("请携带身份证、社保卡")),
            ("养老服务", 10, Some("请携带老人身份证、户口簿")),
            ("困难救助", 10, Some("请携带身份证、户口簿、收入证明")),
        ],
        "社区事务受理中心",
    ),
    (
        "治安矛盾",
        5,
        &[("邻里纠纷", 5, None), ("治安隐患", 3, None)],
        "派出所",
    ),
    (
        "证照办理",
        5,
        &[
            ("户籍证明", 0, Some("请携带户口簿、身份证")),
            ("居住证明", 3, Some("请携带身份证、租房合同")),
        ],
        "社区事务受理中心",
    ),
    ("其他", 10, &[], "社区事务受理中心"),
];

/// Holidays and make-up workdays (调休) of the demo calendar.
const CALENDAR: [(&str, &str, &str); 11] = [
    ("2026-10-01", "holiday", "国庆节"),
    ("2026-10-02", "holiday", "国庆节"),
    ("2026-10-05", "holiday", "国庆节"),
    ("2026-10-06", "holiday", "国庆节"),
    ("2026-10-07", "holiday", "国庆节"),
    ("2026-09-27", "workday", "国庆调休上班"),
    ("2026-10-10", "workday", "国庆调休上班"),
    ("2027-01-01", "holiday", "元旦"),
    ("2027-02-08", "holiday", "春节"),
    ("2027-02-09", "holiday", "春节"),
    ("2027-02-10", "holiday", "春节"),
];

/// What the demo loader created, for printing.
#[derive(Debug, Clone, Default)]
pub struct DemoSummary {
    /// Units created.
    pub units: usize,
    /// Categories created.
    pub categories: usize,
    /// Routing rules created.
    pub rules: usize,
}

async fn add_unit(
    tx: &DatabaseTransaction,
    name: &str,
    kind: &str,
    parent: Option<i32>,
) -> Result<i32> {
    Ok(unit::ActiveModel {
        name: Set(name.to_owned()),
        kind: Set(kind.to_owned()),
        parent_id: Set(parent),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(tx)
    .await?
    .id)
}

async fn add_category(
    tx: &DatabaseTransaction,
    name: &str,
    parent: Option<i32>,
    limit: i32,
    note: Option<&str>,
    position: i32,
) -> Result<i32> {
    Ok(category::ActiveModel {
        name: Set(name.to_owned()),
        parent_id: Set(parent),
        time_limit_days: Set(limit),
        bring_note: Set(note.map(str::to_owned)),
        position: Set(position),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(tx)
    .await?
    .id)
}

async fn add_rule(
    tx: &DatabaseTransaction,
    category: i32,
    area: i32,
    handler: i32,
    limit: Option<i32>,
) -> Result<()> {
    routing_rule::ActiveModel {
        category_id: Set(category),
        area_unit_id: Set(area),
        handler_unit_id: Set(handler),
        time_limit_days: Set(limit),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(tx)
    .await?;
    Ok(())
}

/// Loads the demo town into an empty database, in one transaction.
/// Refuses (`Invalid` on `database`) when the database already has data.
pub async fn load(db: &DatabaseConnection) -> Result<DemoSummary> {
    let hash = password::hash(DEMO_PASSWORD.to_owned())
        .await
        .map_err(|e| Error::Db(sea_orm::DbErr::Custom(e.to_string())))?;
    let tx = begin_write(db).await?;
    if !is_empty(&tx).await? {
        return Err(crate::domain::Validation::one("database", "err.demo.not_empty").into());
    }
    let mut summary = DemoSummary::default();
    let county = add_unit(&tx, "闵行区", "county", None).await?;
    let town = add_unit(&tx, "马桥镇", "township", Some(county)).await?;
    let mut unit_ids = vec![("闵行区", county), ("马桥镇", town)];
    let mut villages = Vec::new();
    for v in VILLAGES {
        let id = add_unit(&tx, v, "village", Some(town)).await?;
        villages.push(id);
        unit_ids.push((v, id));
    }
    for o in OFFICES {
        unit_ids.push((o, add_unit(&tx, o, "office", Some(town)).await?));
    }
    summary.units = unit_ids.len();
    let unit_named = |name: &str| {
        unit_ids
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, id)| *id)
            .ok_or(Error::NotFound)
    };

    let mut position = 0;
    for (top, limit, children, office) in CATEGORIES {
        let top_id = add_category(&tx, top, None, limit, None, position).await?;
        position += 1;
        summary.categories += 1;
        add_rule(&tx, top_id, town, unit_named(office)?, None).await?;
        summary.rules += 1;
        for (child, child_limit, note) in children {
            let child_id =
                add_category(&tx, child, Some(top_id), *child_limit, *note, position).await?;
            position += 1;
            summary.categories += 1;
            // Special cases that show the walk: streetlights and rubbish go to
            // 城建办 town-wide; neighbour disputes are mediated by the village
            // committee itself (a village-level rule for each village).
            match *child {
                "路灯" | "垃圾清运" => {
                    add_rule(&tx, child_id, town, unit_named("城建办")?, None).await?;
                    summary.rules += 1;
                }
                "邻里纠纷" => {
                    for v in &villages {
                        add_rule(&tx, child_id, *v, *v, Some(3)).await?;
                        summary.rules += 1;
                    }
                }
                "供电" => {
                    add_rule(&tx, child_id, town, unit_named("城建办")?, Some(3)).await?;
                    summary.rules += 1;
                }
                _ => {}
            }
        }
    }

    for (day, kind, note) in CALENDAR {
        let day = NaiveDate::parse_from_str(day, "%Y-%m-%d")
            .map_err(|e| Error::Db(sea_orm::DbErr::Custom(e.to_string())))?;
        calendar_day::ActiveModel {
            day: Set(day),
            kind: Set(kind.to_owned()),
            note: Set(note.to_owned()),
        }
        .insert(&tx)
        .await?;
    }

    for (username, role, display, unit_name) in DEMO_ACCOUNTS {
        user::ActiveModel {
            username: Set(username.to_owned()),
            password_hash: Set(hash.clone()),
            display_name: Set(display.to_owned()),
            role: Set(role.as_str().to_owned()),
            unit_id: Set(unit_named(unit_name)?),
            active: Set(true),
            created_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(&tx)
        .await?;
    }
    tx.commit().await?;
    Ok(summary)
}

/// One demo request: village, category, requester, phone, text, days ago,
/// and what happened to it since.
type DemoRequest = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    i64,
    DemoFate,
);

/// What happened to a demo request.
#[derive(Clone, Copy)]
enum DemoFate {
    Waiting,
    Accepted,
    Done(&'static str),
    OnTheSpot(&'static str),
    Deferred(&'static str),
}

const DEMO_REQUESTS: [DemoRequest; 16] = [
    (
        "金星村",
        "路灯",
        "张建国",
        "13800001001",
        "3组村口三盏路灯不亮，晚上老人出行不便",
        20,
        DemoFate::Done("已更换灯泡和镇流器，路灯恢复照明"),
    ),
    (
        "金星村",
        "邻里纠纷",
        "李秀英",
        "13800001002",
        "邻居在公共通道堆放杂物，协商未果",
        18,
        DemoFate::Done("村委会上门调解，杂物已清理，双方签订协议"),
    ),
    (
        "金星村",
        "道路破损",
        "王德明",
        "13800001003",
        "金星路桥头路面塌陷一处，雨天积水",
        15,
        DemoFate::Deferred("需结合明年道路大修统一实施，已列入计划"),
    ),
    (
        "金星村",
        "垃圾清运",
        "赵桂兰",
        "13800001004",
        "5组垃圾箱房满溢两天没人清运",
        12,
        DemoFate::OnTheSpot("当场联系保洁队清运完毕"),
    ),
    (
        "金星村",
        "路灯",
        "陈志强",
        "13800001005",
        "篮球场旁路灯白天也亮着，浪费电",
        9,
        DemoFate::Accepted,
    ),
    (
        "金星村",
        "惠农补贴",
        "刘凤英",
        "13800001006",
        "咨询今年耕地地力保护补贴发放时间",
        6,
        DemoFate::Waiting,
    ),
    (
        "金星村",
        "自来水",
        "孙海波",
        "13800001007",
        "7组自来水水压低，二楼放不出水",
        3,
        DemoFate::Waiting,
    ),
    (
        "马桥村",
        "河道保洁",
        "周美华",
        "13800001008",
        "村东小河漂浮垃圾较多，有异味",
        19,
        DemoFate::Done("已安排河道保洁船清理，并加密巡查"),
    ),
    (
        "马桥村",
        "养老服务",
        "吴振华",
        "13800001009",
        "独居老人申请助餐服务",
        14,
        DemoFate::Done("已纳入社区助餐点，每日送餐上门"),
    ),
    (
        "马桥村",
        "违章搭建",
        "郑丽娟",
        "13800001010",
        "邻居在自家宅基地外侧搭建彩钢棚",
        11,
        DemoFate::Accepted,
    ),
    (
        "同心村",
        "排水防汛",
        "冯国庆",
        "13800001011",
        "大雨后村道积水严重，排水沟堵塞",
        17,
        DemoFate::Done("已疏通排水沟120米"),
    ),
    (
        "同心村",
        "公交出行",
        "褚秀兰",
        "13800001012",
        "希望增设到镇医院的公交班次",
        13,
        DemoFate::Deferred("公交线路调整需区交通部门统一规划，已上报"),
    ),
    (
        "同心村",
        "医保社保",
        "卫建军",
        "13800001013",
        "灵活就业人员医保缴费咨询",
        4,
        DemoFate::OnTheSpot("当场讲解缴费标准和办理流程"),
    ),
    (
        "彭渡村",
        "治安隐患",
        "蒋红梅",
        "13800001014",
        "村口监控探头损坏，夜间有陌生车辆",
        8,
        DemoFate::Accepted,
    ),
    (
        "民主村",
        "土地承包",
        "沈志明",
        "13800001015",
        "土地流转合同到期续签问题",
        5,
        DemoFate::Waiting,
    ),
    (
        "联建村",
        "噪声扰民",
        "韩淑珍",
        "13800001016",
        "附近工地夜间施工噪声大",
        2,
        DemoFate::Waiting,
    ),
];

/// Demo meetings are held weekly, this many days ago (closed), plus one open
/// meeting today in 金星村.
const MEETING_DAYS_AGO: [i64; 3] = [21, 14, 7];

/// One step of the demo history, replayed in time order.
enum Op {
    Intake(usize, DateTime<Utc>, Option<i32>),
    Act(
        usize,
        crate::domain::lifecycle::Action,
        crate::domain::lifecycle::Command,
        DateTime<Utc>,
    ),
    Close(i32, DateTime<Utc>),
}

impl Op {
    fn at(&self) -> DateTime<Utc> {
        match self {
            Op::Intake(_, t, _) | Op::Act(_, _, _, t) | Op::Close(_, t) => *t,
        }
    }
}

/// `hour` o'clock China time, `days_ago` days before today.
fn china_time(days_ago: i64, hour: u32) -> DateTime<Utc> {
    use chrono::TimeZone;
    let today = crate::domain::calendar::china_date(Utc::now());
    let day = today - chrono::Duration::days(days_ago);
    day.and_hms_opt(hour, 0, 0)
        .and_then(|t| {
            crate::domain::calendar::china_offset()
                .from_local_datetime(&t)
                .single()
        })
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(Utc::now)
}

/// Replays three weeks of demo history through the real intake, transition
/// and meeting functions, in time order, so that every event, agenda and
/// published tally is real and re-derivable.
pub async fn seed_requests(db: &DatabaseConnection) -> Result<usize> {
    use crate::domain::intake::{Intake, IntakeRaw};
    use crate::domain::lifecycle::{Action, Actor, Command};
    use crate::domain::request::TrackingNo;
    let units = super::units::all(db).await?;
    let cats = super::categories::all(db).await?;
    let users = super::users::list(db, None).await?;
    let user = |name: &str| {
        users
            .iter()
            .find(|u| u.username == name)
            .ok_or(Error::NotFound)
    };
    let cadre = user("cadre")?;
    let dispatcher = user("dispatcher")?;
    let words = super::requests::RouteWords {
        by_rule: "由规则 {rule} 派至 {unit}".into(),
        queued: "无匹配规则，进入 {unit} 派单员队列".into(),
    };
    let unit_id = |name: &str| {
        units
            .iter()
            .find(|u| u.name == name)
            .map(|u| u.id)
            .ok_or(Error::NotFound)
    };

    // Meetings: weekly in every village with demo requests.
    let mut ops = Vec::new();
    let mut meetings: Vec<(i32, i64, i32)> = Vec::new(); // (village, days ago, meeting id)
    let mut villages: Vec<&str> = DEMO_REQUESTS.iter().map(|r| r.0).collect();
    villages.dedup();
    for v in &villages {
        let vid = unit_id(v)?;
        for ago in MEETING_DAYS_AGO {
            let input = super::meetings::MeetingInput {
                village_id: Some(vid),
                held_on: Some(crate::domain::calendar::china_date(china_time(ago, 12)).to_string()),
                place: Some(format!("{v}村委会议室")),
                host: Some("村党总支书记".into()),
            };
            let m =
                super::meetings::create(db, &input, |_| None, cadre.id, china_time(ago, 8)).await?;
            meetings.push((vid, ago, m.id));
            ops.push(Op::Close(m.id, china_time(ago, 20)));
        }
    }
    let today = super::meetings::MeetingInput {
        village_id: Some(unit_id("金星村")?),
        held_on: Some(crate::domain::calendar::china_date(Utc::now()).to_string()),
        place: Some("金星村村委会议室".into()),
        host: Some("村党总支书记".into()),
    };
    super::meetings::create(db, &today, |_| None, cadre.id, Utc::now()).await?;

    for (i, (village, _, _, _, _, days_ago, fate)) in DEMO_REQUESTS.iter().enumerate() {
        let vid = unit_id(village)?;
        // Heard at the latest meeting on or before its day, else a walk-in since.
        let heard = meetings
            .iter()
            .filter(|(v, ago, _)| *v == vid && *ago >= *days_ago)
            .min_by_key(|(_, ago, _)| *ago);
        let (at, meeting) = match heard {
            Some((_, ago, id)) if *ago - *days_ago < 7 => (china_time(*ago, 10), Some(*id)),
            _ => (china_time(*days_ago, 15), None),
        };
        ops.push(Op::Intake(i, at, meeting));
        let later = at + chrono::Duration::hours(20);
        let done_at = at + chrono::Duration::days((*days_ago).clamp(1, 4));
        if !matches!(fate, DemoFate::Waiting | DemoFate::OnTheSpot(_)) {
            ops.push(Op::Act(i, Action::Accept, Command::default(), later));
        }
        match fate {
            DemoFate::Waiting | DemoFate::Accepted => {}
            DemoFate::Done(result) | DemoFate::OnTheSpot(result) => {
                let spot = matches!(fate, DemoFate::OnTheSpot(_));
                let cmd = Command {
                    result: Some((*result).into()),
                    on_the_spot: spot,
                    ..Default::default()
                };
                let when = if spot {
                    at + chrono::Duration::minutes(30)
                } else {
                    done_at
                };
                ops.push(Op::Act(i, Action::Complete, cmd, when));
            }
            DemoFate::Deferred(explanation) => {
                let cmd = Command {
                    reason: Some("funding".into()),
                    explanation: Some((*explanation).into()),
                    review_on: Some(
                        crate::domain::calendar::china_date(Utc::now())
                            + chrono::Duration::days(60),
                    ),
                    ..Default::default()
                };
                ops.push(Op::Act(i, Action::Defer, cmd, done_at));
            }
        }
    }
    ops.sort_by_key(Op::at);

    let mut numbers: Vec<Option<TrackingNo>> = vec![None; DEMO_REQUESTS.len()];
    let mut handling: Vec<Option<i32>> = vec![None; DEMO_REQUESTS.len()];
    for op in ops {
        match op {
            Op::Intake(i, at, meeting_id) => {
                let (village, category, name, phone, content, days_ago, _) = DEMO_REQUESTS[i];
                let raw = IntakeRaw {
                    requester_name: name.into(),
                    phone: phone.into(),
                    village_id: Some(unit_id(village)?),
                    category_id: Some(
                        cats.iter()
                            .find(|c| c.name == category)
                            .ok_or(Error::NotFound)?
                            .id,
                    ),
                    content: content.into(),
                    address: Some(format!("{village}{}组", days_ago % 7 + 1)),
                    consent_publish: Some(days_ago % 3 != 0),
                    meeting_id,
                    source: Some(
                        if meeting_id.is_some() {
                            "meeting"
                        } else {
                            "walk_in"
                        }
                        .into(),
                    ),
                    ..Default::default()
                };
                let intake = Intake::parse(&raw, |_| None, |_| true)?;
                let logger = if village == "金星村" {
                    cadre
                } else {
                    dispatcher
                };
                let created = super::requests::create(
                    db,
                    &intake,
                    logger.id,
                    None,
                    &words,
                    super::outbox::Reach::default(),
                    at,
                )
                .await?;
                handling[i] = created.request.handler_unit_id;
                numbers[i] = TrackingNo::parse(&created.request.tracking_no);
            }
            Op::Act(i, action, cmd, at) => {
                let Some(no) = numbers[i] else { continue };
                // Whoever may act at the handling unit acts; else the dispatcher.
                let by = handling[i]
                    .and_then(|h| {
                        users
                            .iter()
                            .find(|u| u.role == Role::Handler && u.unit_id == h)
                    })
                    .unwrap_or(dispatcher);
                if action == Action::Accept && by.role != Role::Handler {
                    continue;
                }
                let actor = Actor {
                    role: by.role,
                    unit_id: by.unit_id,
                };
                super::requests::transition(
                    db,
                    &no,
                    Some(by.id),
                    actor,
                    action,
                    &cmd,
                    super::outbox::Reach::default(),
                    at,
                )
                .await?;
            }
            Op::Close(id, at) => {
                let input = super::meetings::CloseInput {
                    minutes: Some(
                        "听取群众诉求，逐条明确承办单位和办理时限；对往期事项逐条通报进展。".into(),
                    ),
                    attendees: Some("村党总支书记、村委会主任、镇联络员".into()),
                    headcount: Some(20),
                };
                super::meetings::close(db, id, &input, cadre.id, at).await?;
            }
        }
    }
    Ok(DEMO_REQUESTS.len())
}
