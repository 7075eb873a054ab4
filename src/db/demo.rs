//! The demo town: 马桥镇 under 闵行区, its villages and offices, a category
//! tree for village life, routing rules that reach someone for every
//! category, the 2026–27 holidays, and one account per role.

use super::entities::{calendar_day, category, routing_rule, unit, user};
use super::{Error, Result, begin_write, is_empty};
use crate::domain::role::Role;
use crate::password;
use chrono::{NaiveDate, Utc};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, DatabaseConnection, DatabaseTransaction};

/// Password of every demo account.
pub const DEMO_PASSWORD: &str = "zzh-demo-2026";

/// The demo accounts: username, role, display name, unit name.
pub const DEMO_ACCOUNTS: [(&str, Role, &str, &str); 5] = [
    ("admin", Role::Admin, "区信息中心管理员", "闵行区"),
    ("dispatcher", Role::Dispatcher, "马桥镇派单员", "马桥镇"),
    ("handler", Role::Handler, "城建办承办人", "城建办"),
    ("cadre", Role::Cadre, "金星村村干部", "金星村"),
    ("supervisor", Role::Supervisor, "马桥镇督查", "马桥镇"),
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
