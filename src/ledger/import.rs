//! Reading paper-logged requests from XLSX or CSV (UTF-8 with or without BOM,
//! or GB18030 as Chinese Excel saves it): every row is checked as batch entry
//! checks it, and a file with any bad row imports nothing.

use super::Error;
use crate::db::categories::Category;
use crate::db::requests::RouteWords;
use crate::db::units::Unit;
use crate::db::users::User;
use crate::db::{self, outbox};
use crate::domain::intake::{Intake, IntakeRaw};
use crate::domain::request::{RequestType, Source};
use crate::domain::role::Role;
use crate::domain::unit::{UnitKind, UnitTree};
use crate::web::i18n::message;
use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;

/// The columns an import reads, by header name; any others are ignored, so
/// an exported ledger reads back as it is.
pub const COLUMNS: [&str; 7] = [
    "村居",
    "地址",
    "诉求人",
    "联系电话",
    "诉求分类",
    "类型",
    "诉求内容",
];

/// Template column widths.
pub const WIDTHS: [f64; 7] = [10.0, 14.0, 8.0, 14.0, 18.0, 6.0, 40.0];

/// Columns a file must have.
const REQUIRED: [&str; 5] = ["村居", "诉求人", "联系电话", "诉求分类", "诉求内容"];

/// Most data rows in one file.
pub const MAX_ROWS: usize = 5000;

/// A problem with the file as a whole: a message key and what it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileError {
    /// `exp.err.*`.
    pub key: &'static str,
    /// The column it is about, if any.
    pub column: String,
}

/// A problem with one cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellError {
    /// Row number as the spreadsheet shows it (the header is row 1).
    pub row: usize,
    /// Column header, e.g. 联系电话.
    pub column: &'static str,
    /// Message key.
    pub key: String,
}

impl CellError {
    /// "第 3 行 联系电话：请输入正确的手机或固定电话号码".
    pub fn text(&self, locale: &str) -> String {
        message("exp.import.cell_error", locale)
            .replace("{row}", &self.row.to_string())
            .replace("{column}", self.column)
            .replace("{message}", &message(&self.key, locale))
    }
}

impl FileError {
    /// The message in `locale`.
    pub fn text(&self, locale: &str) -> String {
        message(self.key, locale)
            .replace("{column}", &self.column)
            .replace("{max}", &MAX_ROWS.to_string())
    }
}

/// The text of a CSV file: UTF-8 (BOM dropped) if it is valid UTF-8, else GB18030.
pub fn decode_text(bytes: &[u8]) -> String {
    let bytes = bytes.strip_prefix(super::export::BOM).unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => encoding_rs::GB18030.decode(bytes).0.into_owned(),
    }
}

/// The cells of a file, row by row: XLSX (by its zip signature) or CSV.
pub fn read_table(bytes: &[u8]) -> Result<Vec<Vec<String>>, FileError> {
    let unreadable = FileError {
        key: "exp.err.unreadable",
        column: String::new(),
    };
    if bytes.starts_with(b"PK\x03\x04") {
        use calamine::{Data, Reader, Xlsx};
        let mut book: Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes))
            .map_err(|_| unreadable.clone())?;
        let range = book
            .worksheet_range_at(0)
            .ok_or_else(|| unreadable.clone())?
            .map_err(|_| unreadable.clone())?;
        Ok(range
            .rows()
            .map(|r| {
                r.iter()
                    .map(|c| match c {
                        // Phone numbers typed into Excel become numbers.
                        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => {
                            format!("{}", *f as i64)
                        }
                        Data::Empty => String::new(),
                        other => other.to_string(),
                    })
                    .collect()
            })
            .collect())
    } else {
        let text = decode_text(bytes);
        let mut rd = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(text.as_bytes());
        rd.records()
            .map(|r| {
                r.map(|rec| rec.iter().map(str::to_owned).collect())
                    .map_err(|_| unreadable.clone())
            })
            .collect()
    }
}

/// Units, categories and the importing account.
pub struct Context<'a> {
    /// Every unit.
    pub units: &'a [Unit],
    /// The unit tree.
    pub tree: &'a UnitTree,
    /// Every category.
    pub cats: &'a [Category],
    /// Who imports.
    pub user: &'a User,
}

impl Context<'_> {
    fn village(&self, name: &str) -> Result<i32, &'static str> {
        let name = name.trim();
        if name.is_empty() {
            return Err("err.required");
        }
        let found: Vec<i32> = self
            .units
            .iter()
            .filter(|u| u.kind == UnitKind::Village && u.name == name)
            .map(|u| u.id)
            .collect();
        let mine: Vec<i32> = found
            .iter()
            .copied()
            .filter(|v| crate::web::scope::may_log_for(self.tree, self.user, *v).is_none())
            .collect();
        match (found.as_slice(), mine.as_slice()) {
            ([], _) => Err("exp.err.unknown_village"),
            (_, [one]) => Ok(*one),
            ([one], []) => Ok(*one),
            (_, []) => Err("err.out_of_scope"),
            _ => Err("exp.err.ambiguous_village"),
        }
    }

    fn category(&self, label: &str) -> Result<i32, &'static str> {
        let label = label.trim();
        if label.is_empty() {
            return Err("err.required");
        }
        let parts: Vec<&str> = label
            .split(['›', '>', '/', '＞'])
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .collect();
        let found: Vec<i32> = match parts.as_slice() {
            [name] => self
                .cats
                .iter()
                .filter(|c| c.name == *name)
                .map(|c| c.id)
                .collect(),
            [parent, name] => self
                .cats
                .iter()
                .filter(|c| {
                    c.name == *name
                        && c.parent_id
                            .and_then(|p| self.cats.iter().find(|x| x.id == p))
                            .is_some_and(|p| p.name == *parent)
                })
                .map(|c| c.id)
                .collect(),
            _ => Vec::new(),
        };
        match found.as_slice() {
            [one] => Ok(*one),
            [] => Err("exp.err.unknown_category"),
            _ => Err("exp.err.ambiguous_category"),
        }
    }
}

/// A request type by its Chinese name (求助) or stored name (help).
fn request_type(cell: &str) -> Option<String> {
    let t = cell.trim();
    if t.is_empty() {
        return None;
    }
    let found = RequestType::ALL
        .iter()
        .find(|rt| rt.as_str() == t || message(&format!("type.{}", rt.as_str()), "zh-CN") == t);
    Some(found.map_or(t.to_owned(), |rt| rt.as_str().to_owned()))
}

/// The header of the column an intake field came from.
fn column_of(field: &str) -> &'static str {
    match field {
        "village_id" => "村居",
        "address" => "地址",
        "requester_name" => "诉求人",
        "phone" => "联系电话",
        "category_id" => "诉求分类",
        "type" => "类型",
        _ => "诉求内容",
    }
}

/// The outcome of checking a file.
#[derive(Debug, Default)]
pub struct Checked {
    /// Valid requests with their row numbers.
    pub ok: Vec<(usize, Intake)>,
    /// Problems with the file as a whole.
    pub file_errors: Vec<FileError>,
    /// Problems with cells, in row order.
    pub cell_errors: Vec<CellError>,
}

impl Checked {
    /// Whether the file may be imported.
    pub fn is_clean(&self) -> bool {
        self.file_errors.is_empty() && self.cell_errors.is_empty() && !self.ok.is_empty()
    }

    /// The rows that have a problem.
    pub fn bad_rows(&self) -> Vec<usize> {
        let mut rows: Vec<usize> = self.cell_errors.iter().map(|e| e.row).collect();
        rows.dedup();
        rows
    }
}

/// Checks every row of a file as batch entry would. Source is `import`.
pub fn check(bytes: &[u8], ctx: &Context<'_>) -> Checked {
    let mut out = Checked::default();
    if !matches!(ctx.user.role, Role::Cadre | Role::Dispatcher) {
        out.file_errors.push(FileError {
            key: "err.intake.role",
            column: String::new(),
        });
        return out;
    }
    let table = match read_table(bytes) {
        Ok(t) => t,
        Err(e) => {
            out.file_errors.push(e);
            return out;
        }
    };
    let Some(header) = table.first() else {
        out.file_errors.push(FileError {
            key: "exp.err.no_rows",
            column: String::new(),
        });
        return out;
    };
    let index = |name: &str| header.iter().position(|h| h.trim() == name);
    for col in REQUIRED {
        if index(col).is_none() {
            out.file_errors.push(FileError {
                key: "exp.err.missing_column",
                column: col.to_owned(),
            });
        }
    }
    if !out.file_errors.is_empty() {
        return out;
    }
    let data: Vec<(usize, &Vec<String>)> = table
        .iter()
        .enumerate()
        .skip(1)
        .filter(|(_, r)| r.iter().any(|c| !c.trim().is_empty()))
        .map(|(i, r)| (i + 1, r))
        .collect();
    if data.is_empty() {
        out.file_errors.push(FileError {
            key: "exp.err.no_rows",
            column: String::new(),
        });
        return out;
    }
    if data.len() > MAX_ROWS {
        out.file_errors.push(FileError {
            key: "exp.err.too_many_rows",
            column: String::new(),
        });
        return out;
    }
    for (row, cells) in data {
        let cell = |name: &str| {
            index(name)
                .and_then(|i| cells.get(i))
                .map(|s| s.trim().to_owned())
                .unwrap_or_default()
        };
        let mut lookups: Vec<CellError> = Vec::new();
        let village = ctx.village(&cell("村居")).map_err(|k| {
            lookups.push(CellError {
                row,
                column: "村居",
                key: k.to_owned(),
            })
        });
        let category = ctx.category(&cell("诉求分类")).map_err(|k| {
            lookups.push(CellError {
                row,
                column: "诉求分类",
                key: k.to_owned(),
            })
        });
        let raw = IntakeRaw {
            requester_name: cell("诉求人"),
            phone: cell("联系电话"),
            email: None,
            address: Some(cell("地址")),
            // Unknown names were reported above; a placeholder keeps the
            // other fields checked.
            village_id: Some(village.unwrap_or_default()),
            category_id: Some(category.unwrap_or_default()),
            req_type: request_type(&cell("类型")),
            content: cell("诉求内容"),
            source: Some(Source::Import.as_str().to_owned()),
            meeting_id: None,
            urgency: None,
            consent_publish: Some(false),
        };
        let parsed = Intake::parse(
            &raw,
            |v| {
                if village.is_err() {
                    None
                } else {
                    crate::web::scope::may_log_for(ctx.tree, ctx.user, v)
                }
            },
            |c| category.is_err() || ctx.cats.iter().any(|x| x.id == c),
        );
        match parsed {
            Ok(intake) if lookups.is_empty() => out.ok.push((row, intake)),
            Ok(_) => out.cell_errors.extend(lookups),
            Err(v) => {
                let mut errs = lookups;
                errs.extend(v.0.iter().map(|e| CellError {
                    row,
                    column: column_of(&e.field),
                    key: e.key.clone(),
                }));
                errs.sort_by_key(|e| COLUMNS.iter().position(|c| *c == e.column));
                out.cell_errors.extend(errs);
            }
        }
    }
    out
}

/// What an import did.
#[derive(Debug, Default)]
pub struct Report {
    /// The check of the file.
    pub checked: Checked,
    /// Tracking numbers of the requests created now.
    pub created: Vec<String>,
    /// Rows that an earlier upload of the same file had already imported.
    pub replayed: usize,
}

/// The idempotency key of one row: the file's hash and the row number.
fn row_key(hash: &str, row: usize) -> String {
    format!("imp-{hash}-{row}")
}

/// Checks a file and, unless `dry_run` or any row is bad, logs every request
/// as intake does (routed by the rules, source `import`). Re-importing the
/// same file by the same account creates nothing new.
pub async fn run(
    db: &DatabaseConnection,
    user: &User,
    bytes: &[u8],
    dry_run: bool,
    words: &RouteWords,
    reach: outbox::Reach,
    now: DateTime<Utc>,
) -> Result<Report, Error> {
    use sha2::{Digest, Sha256};
    let units = db::units::all(db).await?;
    let tree = db::units::tree_of(&units);
    let cats = db::categories::all(db).await?;
    let ctx = Context {
        units: &units,
        tree: &tree,
        cats: &cats,
        user,
    };
    let checked = check(bytes, &ctx);
    let mut report = Report::default();
    if dry_run || !checked.is_clean() {
        report.checked = checked;
        return Ok(report);
    }
    let hash = hex::encode(&Sha256::digest(bytes)[..16]);
    for (row, intake) in &checked.ok {
        let key = row_key(&hash, *row);
        let created =
            db::requests::create(db, intake, user.id, Some(&key), words, reach, now).await?;
        if created.replayed {
            report.replayed += 1;
        } else {
            report.created.push(created.request.tracking_no);
        }
    }
    tracing::info!(
        user_id = user.id,
        created = report.created.len(),
        replayed = report.replayed,
        "requests imported"
    );
    report.checked = checked;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gb18030_text_is_decoded_when_it_is_not_utf8() {
        let (bytes, _, _) = encoding_rs::GB18030.encode("村居,诉求人\r\n金星村,张三\r\n");
        assert_eq!(decode_text(&bytes), "村居,诉求人\r\n金星村,张三\r\n");
        let mut with_bom = super::super::export::BOM.to_vec();
        with_bom.extend("村居".as_bytes());
        assert_eq!(decode_text(&with_bom), "村居");
    }

    #[test]
    fn csv_tables_keep_quoted_line_breaks() {
        let t = read_table("a,b\r\n1,\"两\n行\"\r\n".as_bytes()).unwrap_or_default();
        assert_eq!(t, vec![vec!["a", "b"], vec!["1", "两\n行"]]);
    }

    #[test]
    fn types_are_read_by_chinese_or_stored_name() {
        assert_eq!(request_type("投诉").as_deref(), Some("complaint"));
        assert_eq!(request_type("help").as_deref(), Some("help"));
        assert_eq!(request_type(" ").as_deref(), None);
        assert_eq!(request_type("吐槽").as_deref(), Some("吐槽"));
    }

    #[test]
    fn row_keys_fit_the_idempotency_column() {
        assert!(row_key(&"f".repeat(32), 5000).len() <= 64);
    }
}
