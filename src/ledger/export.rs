//! Writing ledger rows: CSV (UTF-8 with BOM, one chunk of bytes at a time)
//! and XLSX (rust_xlsxwriter in constant-memory mode, assembled in a
//! temporary file).

use super::{COLUMNS, Error, WIDTHS};
use rust_xlsxwriter::{Format, Workbook};
use std::io::{Seek, Write};

/// The byte-order mark Excel needs to read UTF-8 CSV as UTF-8.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The first bytes of a CSV file: BOM and header line.
pub fn csv_head() -> Result<Vec<u8>, Error> {
    let mut out = BOM.to_vec();
    out.extend(csv_rows(&[COLUMNS.map(str::to_owned).to_vec()])?);
    Ok(out)
}

/// CSV lines of `rows` (CRLF, quoted where needed).
pub fn csv_rows(rows: &[Vec<String>]) -> Result<Vec<u8>, Error> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    for r in rows {
        w.write_record(r)?;
    }
    w.into_inner()
        .map_err(|e| Error::Io(std::io::Error::other(e.to_string())))
}

/// An XLSX sheet being written row by row; rows are flushed to a temporary
/// file as they come, so memory stays flat however long the ledger is.
pub struct XlsxWriter {
    book: Workbook,
    next_row: u32,
}

impl XlsxWriter {
    /// A ledger workbook with one sheet named `sheet`, its header row frozen.
    pub fn new(sheet: &str) -> Result<XlsxWriter, Error> {
        XlsxWriter::with_columns(sheet, &COLUMNS, &WIDTHS)
    }

    /// A workbook with one sheet of these columns (header frozen).
    pub fn with_columns(
        sheet: &str,
        columns: &[&str],
        widths: &[f64],
    ) -> Result<XlsxWriter, Error> {
        let mut book = Workbook::new();
        let ws = book.add_worksheet_with_constant_memory();
        ws.set_name(sheet)?;
        for (i, w) in widths.iter().enumerate() {
            ws.set_column_width(col(i), *w)?;
        }
        ws.set_freeze_panes(1, 0)?;
        let bold = Format::new().set_bold();
        for (i, h) in columns.iter().enumerate() {
            ws.write_string_with_format(0, col(i), *h, &bold)?;
        }
        Ok(XlsxWriter { book, next_row: 1 })
    }

    /// Appends rows below the last.
    pub fn push(&mut self, rows: &[Vec<String>]) -> Result<(), Error> {
        let ws = self.book.worksheet_from_index(0)?;
        for r in rows {
            for (i, v) in r.iter().enumerate() {
                if !v.is_empty() {
                    ws.write_string(self.next_row, col(i), v)?;
                }
            }
            self.next_row += 1;
        }
        Ok(())
    }

    /// Assembles the workbook into `out`.
    pub fn finish<W: Write + Seek + Send>(mut self, out: W) -> Result<(), Error> {
        self.book.save_to_writer(out)?;
        Ok(())
    }
}

fn col(i: usize) -> u16 {
    u16::try_from(i).unwrap_or(u16::MAX)
}

/// The blank import template: the header row of the columns an import reads.
pub fn template_xlsx() -> Result<Vec<u8>, Error> {
    use super::import::{COLUMNS, WIDTHS};
    let mut cur = std::io::Cursor::new(Vec::new());
    XlsxWriter::with_columns(super::title::TEMPLATE, &COLUMNS, &WIDTHS)?.finish(&mut cur)?;
    Ok(cur.into_inner())
}

/// The blank import template as CSV (UTF-8 with BOM).
pub fn template_csv() -> Result<Vec<u8>, Error> {
    let mut out = BOM.to_vec();
    out.extend(csv_rows(&[super::import::COLUMNS
        .map(str::to_owned)
        .to_vec()])?);
    Ok(out)
}

/// Writes every request of `filter` to a file (the command line), CSV or
/// XLSX; returns the number of rows.
pub async fn to_file(
    db: &impl sea_orm::ConnectionTrait,
    filter: crate::db::requests::Filter,
    privacy: super::Privacy,
    xlsx: bool,
    out: std::fs::File,
) -> Result<u64, Error> {
    let names = super::Names::load(db, chrono::Utc::now()).await?;
    let mut chunks = super::Chunks::new(filter, privacy);
    let mut rows = 0u64;
    if xlsx {
        let mut x = XlsxWriter::new(super::title::LEDGER)?;
        while let Some(chunk) = chunks.next(db, &names).await? {
            rows += chunk.len() as u64;
            x.push(&chunk)?;
        }
        x.finish(out)?;
    } else {
        let mut w = std::io::BufWriter::new(out);
        w.write_all(&csv_head()?)?;
        while let Some(chunk) = chunks.next(db, &names).await? {
            rows += chunk.len() as u64;
            w.write_all(&csv_rows(&chunk)?)?;
        }
        w.flush()?;
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_starts_with_a_bom_and_the_header() {
        let head = csv_head().unwrap_or_default();
        assert!(head.starts_with(BOM));
        let text = String::from_utf8(head[3..].to_vec()).unwrap_or_default();
        assert!(text.starts_with("工单编号,受理时间,村居,"));
        assert!(text.ends_with("评价\r\n"));
    }

    #[test]
    fn csv_quotes_commas_and_line_breaks() {
        let rows = vec![vec!["a,b".to_owned(), "两\n行".to_owned()]];
        let out = String::from_utf8(csv_rows(&rows).unwrap_or_default()).unwrap_or_default();
        assert_eq!(out, "\"a,b\",\"两\n行\"\r\n");
    }
}
