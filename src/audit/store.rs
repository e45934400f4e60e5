//! The results database: SQLite, one row per job, each committed in its own transaction.
//!
//! A row holds the job's id (its key), where its capture was and the capture's SHA-256, the
//! outcome, the decisive findings' kinds, and the whole report (verdict, reading, approved
//! text, provenance) as the service's protobuf `Report`, which the report command decodes
//! again; or, for a job that failed, its error. The `settings` table holds what the rows
//! were judged with. The journal is SQLite's write-ahead log with a sync at every commit, so
//! a kill at any point keeps every committed row and none half-written.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use prost::Message;
use rusqlite::{Connection, OpenFlags, params};

use super::{AuditError, Conflict, SettingsDiffer};
use crate::compare::{FindingKind, Policy};
use crate::service::pb;
use crate::verify::Report;

const SCHEMA: &str = "
PRAGMA journal_mode = WAL;
PRAGMA synchronous = FULL;
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    image TEXT NOT NULL,
    image_sha256 TEXT NOT NULL,
    outcome TEXT,
    kinds TEXT NOT NULL,
    error TEXT,
    report BLOB,
    millis REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_image ON jobs (image_sha256);
";

/// Columns in the order [`Store::record`] and [`merge`] write them.
const COLUMNS: &str = "id, image, image_sha256, outcome, kinds, error, report, millis";

/// What the rows of a database were judged with; a run or a merge under other settings is
/// refused.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings(pub Vec<(String, String)>);

impl Settings {
    pub fn new(
        version: &str,
        model_set: &str,
        model_sha256: &BTreeMap<String, String>,
        backend: &str,
        policy: &Policy,
    ) -> Settings {
        let json = |v: serde_json::Result<String>| v.expect("settings serialise");
        Settings(vec![
            ("version".into(), version.into()),
            ("model_set".into(), model_set.into()),
            ("model_sha256".into(), json(serde_json::to_string(model_sha256))),
            ("backend".into(), backend.into()),
            ("policy".into(), json(serde_json::to_string(policy))),
        ])
    }
}

/// One job's row.
#[derive(Debug, Clone)]
pub struct Row {
    pub id: String,
    /// The capture's path as the run resolved it; empty when the job named none.
    pub image: String,
    /// Empty when the capture could not be read.
    pub image_sha256: String,
    pub result: Result<Report, String>,
    /// The capture's reading and its trials (second look, under the imprint, second
    /// opinions), in milliseconds, as the report's `timing_ms.total`.
    pub millis: f64,
}

/// The rows' counts: per outcome, and the jobs showing each decisive finding kind.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub jobs: usize,
    /// MATCH, MISMATCH, UNREADABLE and failed, in that order.
    pub outcomes: Vec<(String, usize)>,
    /// Most frequent first.
    pub kinds: Vec<(String, usize)>,
}

/// What [`Summary::outcomes`] calls a job that failed.
pub const FAILED: &str = "failed";

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let counts = |pairs: &[(String, usize)]| pairs.iter().map(|(k, n)| format!("{n} {k}")).collect::<Vec<_>>();
        writeln!(f, "{} jobs: {}", self.jobs, counts(&self.outcomes).join(", "))?;
        let kinds = self.kinds.iter().map(|(k, n)| format!("{k} {n}")).collect::<Vec<_>>();
        let kinds = if kinds.is_empty() { "none".into() } else { kinds.join(", ") };
        write!(f, "jobs with each finding kind: {kinds}")
    }
}

/// An open results database.
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

impl Store {
    /// Open the database at `path`, creating it when there is none.
    pub fn open(path: &Path) -> Result<Store, AuditError> {
        Store::with_flags(path, OpenFlags::default())
    }

    /// Open a database that must exist (to report, export or merge from).
    pub fn open_existing(path: &Path) -> Result<Store, AuditError> {
        Store::with_flags(path, OpenFlags::default() - OpenFlags::SQLITE_OPEN_CREATE)
    }

    fn with_flags(path: &Path, flags: OpenFlags) -> Result<Store, AuditError> {
        let fail = |source| AuditError::Database { path: path.into(), source };
        let conn = Connection::open_with_flags(path, flags).map_err(fail)?;
        conn.execute_batch(SCHEMA).map_err(fail)?;
        Ok(Store { conn, path: path.into() })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn fail(&self) -> impl Fn(rusqlite::Error) -> AuditError + '_ {
        |source| AuditError::Database { path: self.path.clone(), source }
    }

    /// The settings recorded, empty for a new database.
    pub fn settings(&self) -> Result<Settings, AuditError> {
        let mut statement = self.conn.prepare("SELECT key, value FROM settings ORDER BY rowid").map_err(self.fail())?;
        let rows = statement.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).map_err(self.fail())?;
        Ok(Settings(rows.collect::<Result<_, _>>().map_err(self.fail())?))
    }

    /// Record `settings` in a new database, or check them against those recorded; `who`
    /// names the other side in the refusal ("this run", another database).
    pub fn adopt(&mut self, settings: &Settings, who: &str) -> Result<(), AuditError> {
        let recorded = self.settings()?;
        if recorded.0.is_empty() {
            let tx =
                self.conn.transaction().map_err(|source| AuditError::Database { path: self.path.clone(), source })?;
            for (key, value) in &settings.0 {
                tx.execute("INSERT INTO settings (key, value) VALUES (?1, ?2)", params![key, value])
                    .map_err(|source| AuditError::Database { path: self.path.clone(), source })?;
            }
            return tx.commit().map_err(|source| AuditError::Database { path: self.path.clone(), source });
        }
        let now: HashMap<&str, &str> = settings.0.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        for (key, value) in &recorded.0 {
            let theirs = now.get(key.as_str()).copied().unwrap_or("(none)");
            if theirs != value {
                let (key, recorded, now) = difference(key, value, theirs);
                let path = self.path.clone();
                return Err(AuditError::Settings(Box::new(SettingsDiffer {
                    path,
                    key,
                    recorded,
                    now,
                    who: who.into(),
                })));
            }
        }
        Ok(())
    }

    /// The ids with a row; with `retry_failed`, those of failed jobs are left out.
    pub fn judged(&self, retry_failed: bool) -> Result<HashSet<String>, AuditError> {
        let sql = if retry_failed { "SELECT id FROM jobs WHERE error IS NULL" } else { "SELECT id FROM jobs" };
        let mut statement = self.conn.prepare(sql).map_err(self.fail())?;
        let ids = statement.query_map([], |r| r.get(0)).map_err(self.fail())?;
        ids.collect::<Result<_, _>>().map_err(self.fail())
    }

    /// Write one job's row (replacing a failed one), in a transaction of its own.
    pub fn record(&mut self, row: &Row) -> Result<(), AuditError> {
        let (outcome, kinds, error, report) = match &row.result {
            Ok(report) => {
                let blob = pb::Report::from(report).encode_to_vec();
                (Some(report.verdict.outcome.to_string()), decisive_kinds(report).join(" "), None, Some(blob))
            }
            Err(e) => (None, String::new(), Some(e.as_str()), None),
        };
        let path = self.path.clone();
        let fail = |source| AuditError::Database { path: path.clone(), source };
        let tx = self.conn.transaction().map_err(fail)?;
        tx.execute(
            &format!("INSERT OR REPLACE INTO jobs ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"),
            params![row.id, row.image, row.image_sha256, outcome, kinds, error, report, row.millis],
        )
        .map_err(fail)?;
        tx.commit().map_err(fail)
    }

    /// Every row in id order, decoded, handed to `each` one at a time (a report's reading is
    /// large; 10,000 of them are not held at once).
    pub fn for_each_row(&self, mut each: impl FnMut(Row) -> Result<(), AuditError>) -> Result<(), AuditError> {
        let mut statement = self
            .conn
            .prepare("SELECT id, image, image_sha256, error, report, millis FROM jobs ORDER BY id")
            .map_err(self.fail())?;
        let mut rows = statement.query([]).map_err(self.fail())?;
        while let Some(r) = rows.next().map_err(self.fail())? {
            let get = |i| -> Result<String, AuditError> { r.get(i).map_err(self.fail()) };
            let error: Option<String> = r.get(3).map_err(self.fail())?;
            let blob: Option<Vec<u8>> = r.get(4).map_err(self.fail())?;
            let result = match (error, blob) {
                (Some(e), _) => Err(e),
                (None, Some(blob)) => Ok(self.decode(&blob)?),
                (None, None) => return Err(self.corrupt("a row has neither a report nor an error")),
            };
            each(Row {
                id: get(0)?,
                image: get(1)?,
                image_sha256: get(2)?,
                result,
                millis: r.get(5).map_err(self.fail())?,
            })?;
        }
        Ok(())
    }

    fn decode(&self, blob: &[u8]) -> Result<Report, AuditError> {
        let message = pb::Report::decode(blob).map_err(|e| self.corrupt(&e.to_string()))?;
        Report::try_from(message).map_err(|e| self.corrupt(&e.to_string()))
    }

    fn corrupt(&self, message: &str) -> AuditError {
        AuditError::Corrupt { path: self.path.clone(), message: message.into() }
    }

    /// Counts per outcome and the decisive finding kinds, from the rows' columns alone.
    pub fn summary(&self) -> Result<Summary, AuditError> {
        let mut statement = self.conn.prepare("SELECT outcome, kinds FROM jobs").map_err(self.fail())?;
        let rows = statement
            .query_map([], |r| Ok((r.get::<_, Option<String>>(0)?, r.get::<_, String>(1)?)))
            .map_err(self.fail())?;
        let mut outcomes: BTreeMap<String, usize> = BTreeMap::new();
        let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
        let mut jobs = 0;
        for row in rows {
            let (outcome, row_kinds) = row.map_err(self.fail())?;
            jobs += 1;
            *outcomes.entry(outcome.unwrap_or_else(|| FAILED.into())).or_default() += 1;
            for kind in row_kinds.split_whitespace() {
                *kinds.entry(kind.into()).or_default() += 1;
            }
        }
        let order = ["MATCH", "MISMATCH", "UNREADABLE", FAILED];
        let outcomes = order.iter().map(|o| (o.to_string(), outcomes.get(*o).copied().unwrap_or(0))).collect();
        let mut kinds: Vec<(String, usize)> = kinds.into_iter().collect();
        kinds.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        Ok(Summary { jobs, outcomes, kinds })
    }

    /// Every row as a JSON line: id, capture, its SHA-256, outcome, error, milliseconds,
    /// and the report as `verify --json` prints it.
    pub fn export(&self, out: &mut impl Write) -> Result<(), AuditError> {
        let write_error = |source| AuditError::Write { path: "the export".into(), source };
        self.for_each_row(|row| {
            let (outcome, report, error) = match &row.result {
                Ok(report) => (Some(report.verdict.outcome.to_string()), serde_json::to_value(report).ok(), None),
                Err(e) => (None, None, Some(e.clone())),
            };
            let line = serde_json::json!({
                "id": row.id, "image": row.image, "image_sha256": row.image_sha256, "outcome": outcome,
                "error": error, "millis": row.millis, "report": report,
            });
            writeln!(out, "{line}").map_err(write_error)
        })
    }
}

/// The decisive findings' kinds of a report, each once, as the database names them.
pub fn decisive_kinds(report: &Report) -> Vec<String> {
    let kinds: std::collections::BTreeSet<String> =
        report.verdict.findings.iter().filter(|f| !f.tolerated).map(|f| kind_name(f.kind)).collect();
    kinds.into_iter().collect()
}

/// A finding kind as `verify --json` names it.
pub fn kind_name(kind: FindingKind) -> String {
    serde_json::to_value(kind).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default()
}

/// The first difference between two settings' values: inside JSON objects, the field that
/// differs (`model_sha256.rec`), so the refusal names it rather than two long maps.
fn difference(key: &str, a: &str, b: &str) -> (String, String, String) {
    let parse = |s: &str| serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(s).ok();
    if let (Some(x), Some(y)) = (parse(a), parse(b)) {
        let fields: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
        for field in fields {
            let show = |m: &serde_json::Map<String, serde_json::Value>| {
                m.get(field).map_or("(none)".into(), |v| v.to_string())
            };
            if x.get(field) != y.get(field) {
                return (format!("{key}.{field}"), show(&x), show(&y));
            }
        }
    }
    (key.into(), a.into(), b.into())
}

/// How many rows a merge brought in, and how many it found already present.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Merged {
    pub added: usize,
    pub duplicates: usize,
}

/// Join shard databases into `out` (created when missing), all in one transaction: a job
/// present twice must have the same capture (the copy is skipped), and every database the
/// same settings; otherwise nothing is written.
pub fn merge(out: &Path, inputs: &[PathBuf]) -> Result<Merged, AuditError> {
    let mut target = Store::open(out)?;
    for input in inputs {
        let shard = Store::open_existing(input)?;
        target.adopt(&shard.settings()?, &input.display().to_string())?;
    }
    let fail = |source| AuditError::Database { path: out.into(), source };
    let tx = target.conn.transaction().map_err(fail)?;
    let mut merged = Merged::default();
    let mut owner: HashMap<String, (String, PathBuf)> = HashMap::new();
    {
        let mut existing = tx.prepare("SELECT id, image_sha256 FROM jobs").map_err(fail)?;
        for row in existing.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).map_err(fail)? {
            let (id, sha): (String, String) = row.map_err(fail)?;
            owner.insert(id, (sha, out.into()));
        }
    }
    for input in inputs {
        let shard = Store::open_existing(input)?;
        let mut select = shard.conn.prepare(&format!("SELECT {COLUMNS} FROM jobs")).map_err(shard.fail())?;
        let mut rows = select.query([]).map_err(shard.fail())?;
        while let Some(r) = rows.next().map_err(shard.fail())? {
            let values: Vec<rusqlite::types::Value> =
                (0..8).map(|i| r.get(i)).collect::<Result<_, _>>().map_err(shard.fail())?;
            let (id, sha): (String, String) = (r.get(0).map_err(shard.fail())?, r.get(2).map_err(shard.fail())?);
            if let Some((first, other)) = owner.get(&id) {
                if *first != sha {
                    let (path, other, a, b) = (input.clone(), other.clone(), sha, first.clone());
                    return Err(AuditError::Conflict(Box::new(Conflict { path, other, id, a, b })));
                }
                merged.duplicates += 1;
                continue;
            }
            tx.execute(
                &format!("INSERT INTO jobs ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"),
                rusqlite::params_from_iter(values),
            )
            .map_err(fail)?;
            owner.insert(id, (sha, input.clone()));
            merged.added += 1;
        }
    }
    tx.commit().map_err(fail)?;
    Ok(merged)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(rec: &str) -> Settings {
        let checksums = BTreeMap::from([("det".to_string(), "aa".to_string()), ("rec".to_string(), rec.to_string())]);
        Settings::new("0.1.0", "default", &checksums, "local (profile default)", &Policy::default())
    }

    #[test]
    fn settings_are_recorded_once_and_a_difference_is_named_to_the_field() {
        let dir = std::env::temp_dir().join(format!("sealcheck-store-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("audit.sqlite");
        let _ = std::fs::remove_file(&path);
        let mut store = Store::open(&path).unwrap();
        store.adopt(&settings("bb"), "this run").unwrap();
        store.adopt(&settings("bb"), "this run").unwrap();
        assert_eq!(store.settings().unwrap(), settings("bb"), "recorded once, as given");
        let refused = store.adopt(&settings("cc"), "this run").unwrap_err().to_string();
        assert!(refused.contains("model_sha256.rec \"bb\", and this run has model_sha256.rec \"cc\""), "{refused}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
