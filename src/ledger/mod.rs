//! The ledger (台账) as files: the columns of an export, CSV and XLSX
//! writers fed chunk by chunk, and reading paper-logged requests back in.
//! Always in Chinese: a ledger is part of the record, like the routing note.

pub mod export;
pub mod import;

use crate::db;
use crate::db::categories::{self, Category};
use crate::db::requests::{Filter, Request};
use crate::db::units::Unit;
use crate::domain::calendar::{china_date, china_offset};
use crate::domain::request::Status;
use crate::domain::role::Role;
use crate::web::i18n::message;
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::ConnectionTrait;

/// The columns of an export, in order. An import reads the ones it needs by name.
pub const COLUMNS: [&str; 17] = [
    "工单编号",
    "受理时间",
    "村居",
    "地址",
    "诉求人",
    "联系电话",
    "诉求分类",
    "类型",
    "来源",
    "诉求内容",
    "承办单位",
    "状态",
    "办理期限",
    "是否超期",
    "办理结果/暂不能办说明",
    "办结时间",
    "评价",
];

/// Column widths of the XLSX sheet, in characters.
const WIDTHS: [f64; 17] = [
    18.0, 17.0, 10.0, 14.0, 8.0, 14.0, 18.0, 6.0, 8.0, 40.0, 12.0, 9.0, 11.0, 8.0, 36.0, 17.0, 10.0,
];

/// Requests read from the database per chunk.
pub const CHUNK: u64 = 1000;

/// What an export may show of the requester.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Privacy {
    /// Names and phones as logged (cadres, dispatchers, handlers; the CLI).
    Raw,
    /// 张* and 138****1234 (supervisors, administrators).
    Masked,
}

impl Privacy {
    /// Who sees what: the people who talk to the resident see the raw values.
    pub fn for_role(role: Role) -> Privacy {
        match role {
            Role::Cadre | Role::Dispatcher | Role::Handler => Privacy::Raw,
            Role::Supervisor | Role::Admin => Privacy::Masked,
        }
    }
}

/// Errors while writing or reading a ledger file.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database.
    #[error(transparent)]
    Db(#[from] db::Error),
    /// Writing the workbook.
    #[error("xlsx: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
    /// Writing CSV.
    #[error("csv: {0}")]
    Csv(#[from] csv::Error),
    /// A file.
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    /// The writer thread stopped.
    #[error("writer stopped: {0}")]
    Writer(String),
}

/// Names of units and categories and the calendar, loaded once per export.
pub struct Names {
    units: Vec<Unit>,
    cats: Vec<Category>,
    today: NaiveDate,
}

fn zh(key: &str) -> String {
    message(key, "zh-CN")
}

fn china_time(at: DateTime<Utc>) -> String {
    at.with_timezone(&china_offset())
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

impl Names {
    /// Loads what the rows need to name things.
    pub async fn load(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<Names, Error> {
        Ok(Names {
            units: db::units::all(db).await?,
            cats: db::categories::all(db).await?,
            today: china_date(now),
        })
    }

    fn unit(&self, id: Option<i32>) -> String {
        id.and_then(|id| self.units.iter().find(|u| u.id == id))
            .map(|u| u.name.clone())
            .unwrap_or_default()
    }

    /// One ledger row of a request.
    pub fn row(&self, r: &Request, privacy: Privacy) -> Vec<String> {
        let (name, phone) = match privacy {
            Privacy::Raw => (r.name.raw().to_owned(), r.phone.raw().to_owned()),
            Privacy::Masked => (r.name.to_string(), r.phone.to_string()),
        };
        let late = match (r.status, r.closed_at) {
            (s, _) if s.is_open() => r.due_on < self.today,
            (Status::Done, Some(at)) => china_date(at) > r.due_on,
            _ => false,
        };
        let answer = match r.status {
            Status::Done => r.result.clone().unwrap_or_default(),
            Status::Deferred => {
                let reason = r
                    .defer_reason
                    .map(|d| zh(&format!("defer_reason.{}", d.as_str())))
                    .unwrap_or_default();
                let text = r.defer_explanation.clone().unwrap_or_default();
                if reason.is_empty() {
                    text
                } else {
                    format!("{reason}：{text}")
                }
            }
            _ => String::new(),
        };
        let mut status = zh(&format!("status.{}", r.status.as_str()));
        if r.status == Status::Done && r.on_the_spot {
            status.push_str(&zh("exp.on_the_spot_suffix"));
        }
        vec![
            r.tracking_no.clone(),
            china_time(r.received_at),
            self.unit(Some(r.village_id)),
            r.address.clone(),
            name,
            phone,
            categories::label(&self.cats, r.category_id),
            zh(&format!("type.{}", r.req_type.as_str())),
            zh(&format!("source.{}", r.source.as_str())),
            r.content.clone(),
            self.unit(r.current_unit()),
            status,
            r.due_on.format("%Y-%m-%d").to_string(),
            zh(if late { "req.yes" } else { "req.no" }),
            answer,
            match r.status {
                Status::Done | Status::Deferred => r.closed_at.map(china_time).unwrap_or_default(),
                _ => String::new(),
            },
            r.rating
                .map(|x| zh(&format!("rating.{}", x.as_str())))
                .unwrap_or_default(),
        ]
    }
}

/// Walks every request of a filter, `CHUNK` at a time, oldest first (keyset
/// pages by id, so a million rows cost a million rows, not a million squared).
pub struct Chunks {
    filter: Filter,
    privacy: Privacy,
    after: i32,
    done: bool,
}

impl Chunks {
    /// Starts before the first request of `filter`.
    pub fn new(filter: Filter, privacy: Privacy) -> Chunks {
        Chunks {
            filter,
            privacy,
            after: 0,
            done: false,
        }
    }

    /// The next chunk of rows, or `None` at the end.
    pub async fn next(
        &mut self,
        db: &impl ConnectionTrait,
        names: &Names,
    ) -> Result<Option<Vec<Vec<String>>>, Error> {
        if self.done {
            return Ok(None);
        }
        let page = db::requests::list_after(db, &self.filter, self.after, CHUNK).await?;
        self.done = (page.len() as u64) < CHUNK;
        let Some(last) = page.last() else {
            return Ok(None);
        };
        self.after = last.id;
        Ok(Some(
            page.iter().map(|r| names.row(r, self.privacy)).collect(),
        ))
    }
}

/// `周周会诉求台账_2026年第48周` for `today`: the file name people see.
pub fn file_stem(kind: &str, today: NaiveDate) -> String {
    use chrono::Datelike;
    let w = today.iso_week();
    format!("周周会{kind}_{}年第{}周", w.year(), w.week())
}

/// The ASCII fallback of a file name: `zhouzhouhui-ledger-2026-W48`.
pub fn ascii_stem(kind: &str, today: NaiveDate) -> String {
    use chrono::Datelike;
    let w = today.iso_week();
    format!("zhouzhouhui-{kind}-{}-W{:02}", w.year(), w.week())
}

/// Sheet and file titles.
pub mod title {
    /// The ledger of a scope.
    pub const LEDGER: &str = "诉求台账";
    /// Search results.
    pub const SEARCH: &str = "诉求查询结果";
    /// The import template.
    pub const TEMPLATE: &str = "诉求导入模板";
    /// A tab of the reader's queue.
    pub const QUEUE: &str = "我的待办";
    /// Overdue requests.
    pub const OVERDUE: &str = "超期诉求";
    /// A meeting's agenda.
    pub const AGENDA: &str = "周周会议程";
    /// A public board.
    pub const BOARD: &str = "公开栏";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_carry_the_iso_week() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap_or_default();
        assert_eq!(file_stem("诉求台账", d), "周周会诉求台账_2026年第48周");
        assert_eq!(ascii_stem("ledger", d), "zhouzhouhui-ledger-2026-W48");
    }

    #[test]
    fn supervisors_and_admins_get_masked_exports() {
        assert_eq!(Privacy::for_role(Role::Cadre), Privacy::Raw);
        assert_eq!(Privacy::for_role(Role::Handler), Privacy::Raw);
        assert_eq!(Privacy::for_role(Role::Supervisor), Privacy::Masked);
        assert_eq!(Privacy::for_role(Role::Admin), Privacy::Masked);
    }

    #[test]
    fn every_column_has_a_width() {
        assert_eq!(COLUMNS.len(), WIDTHS.len());
    }
}
