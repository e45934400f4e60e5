//! HTML building blocks shared by the evaluation's report and the audit's: escaping, the
//! one style sheet and plain tables, so both reports look alike and escape alike.

use std::fmt::{self, Write as _};
use std::io::{self, Write};

/// The reports' style sheet.
pub const STYLE: &str = "body{font-family:sans-serif;margin:2em;color:#222}\
table{border-collapse:collapse;margin:0.5em 0 1.5em}\
th,td{border:1px solid #ccc;padding:0.25em 0.6em;text-align:left;vertical-align:top}\
td{font-variant-numeric:tabular-nums}th.group{background:#eee}\
.row{display:flex;flex-wrap:wrap;gap:1.5em;align-items:flex-start}\
figure{margin:0}figure svg{max-width:100%;height:auto}\
.pics{gap:1%}.pics figure{max-width:32%}.pics img{max-width:100%;height:auto;border:1px solid #ccc}";

/// Text made safe for HTML content and attribute values.
pub struct Esc<'a>(pub &'a str);

impl fmt::Display for Esc<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.0.chars() {
            match c {
                '<' => f.write_str("&lt;")?,
                '>' => f.write_str("&gt;")?,
                '&' => f.write_str("&amp;")?,
                '"' => f.write_str("&quot;")?,
                '\'' => f.write_str("&#39;")?,
                c => f.write_char(c)?,
            }
        }
        Ok(())
    }
}

/// A plain table of text, or "None." when there are no rows.
pub fn table(head: &[&str], rows: &[Vec<String>], out: &mut impl Write) -> io::Result<()> {
    if rows.is_empty() {
        return writeln!(out, "<p>None.</p>");
    }
    write!(out, "<table><tr>")?;
    for name in head {
        write!(out, "<th>{}</th>", Esc(name))?;
    }
    writeln!(out, "</tr>")?;
    for row in rows {
        write!(out, "<tr>")?;
        for cell in row {
            write!(out, "<td>{}</td>", Esc(cell))?;
        }
        writeln!(out, "</tr>")?;
    }
    writeln!(out, "</table>")
}
