//! Scan history: every scan recorded in an embedded SQLite database (`history.db` in the data
//! dir, `--history PATH` / config `history`; off with `--no-history`).
//!
//! This module stores and loads; it decides nothing ([`crate::triage`] does). It records per
//! scan: when, who (the caller ARN), each account's outcome, each finding with its identity,
//! status and first-seen time, findings carried from accounts not checked in full, and each
//! access key's state (status, creation, last use) so trends can be drawn later.
//!
//! - **SQLite, bundled** (`rusqlite` with `bundled`): nothing to install, one file.
//! - **WAL** and a **busy timeout** ([`BUSY_TIMEOUT`]): readers never block the writer, and two
//!   scans started at once (two cron jobs) queue for the write lock instead of failing; each
//!   scan is written in one `BEGIN IMMEDIATE` transaction, so both land whole.
//! - **Migrations** are numbered SQL scripts ([`MIGRATIONS`]) applied in order, the applied
//!   count kept in SQLite's own `PRAGMA user_version`. Why not a migration crate: the whole
//!   need is "run scripts N+1.. in a transaction and bump a number"; `user_version` does that
//!   in the database header, with no extra table or dependency, and lets us refuse a database
//!   from a newer keytriage (a higher number than we know) before touching it.
//! - Compact rows: times are Unix seconds (UTC), account ids integers, and users, access key
//!   ids and rule ids are interned once (tables `subject` and `rule`), so a scan of 100,000
//!   keys costs a few megabytes.
//!
//! A database that is locked past the timeout, corrupt, or from a newer version is a
//! [`HistoryError`]; the callers skip history with a warning and never lose the scan.

use crate::audit::{Finding, Rule, Severity};
use crate::model::{AccessKeyId, AccountId, AccountScan, KeyStatus, ScanStatus, Timestamp};
use crate::triage::{FindingId, Outcome, Previous, Recorded, Snapshot, Status};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long a scan waits for another keytriage holding the database's write lock.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The schema, one script per version; `PRAGMA user_version` counts those applied. Append
/// only: never edit a released script.
pub const MIGRATIONS: &[&str] = &[
    // 1: scans, account outcomes, interned subjects and rules, findings, key states.
    "CREATE TABLE scan (
        id INTEGER PRIMARY KEY,
        generated_at INTEGER NOT NULL,
        caller TEXT,
        accounts_ok INTEGER NOT NULL,
        accounts_failed INTEGER NOT NULL,
        critical INTEGER NOT NULL, high INTEGER NOT NULL, medium INTEGER NOT NULL,
        low INTEGER NOT NULL, info INTEGER NOT NULL, excepted INTEGER NOT NULL,
        new INTEGER NOT NULL, resolved INTEGER NOT NULL
     );
     CREATE TABLE scan_account (
        scan_id INTEGER NOT NULL, account INTEGER NOT NULL,
        status INTEGER NOT NULL, partial INTEGER NOT NULL,
        PRIMARY KEY (scan_id, account)
     ) WITHOUT ROWID;
     CREATE TABLE rule (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
     CREATE TABLE subject (
        id INTEGER PRIMARY KEY, account INTEGER NOT NULL, user TEXT NOT NULL, credential TEXT
     );
     CREATE TABLE finding (
        scan_id INTEGER NOT NULL, subject INTEGER NOT NULL, rule INTEGER NOT NULL,
        severity INTEGER NOT NULL, status INTEGER NOT NULL, first_seen INTEGER NOT NULL,
        PRIMARY KEY (scan_id, subject, rule)
     ) WITHOUT ROWID;
     CREATE TABLE key_state (
        scan_id INTEGER NOT NULL, subject INTEGER NOT NULL, status INTEGER NOT NULL,
        created INTEGER NOT NULL, last_used INTEGER,
        PRIMARY KEY (scan_id, subject)
     ) WITHOUT ROWID;",
    // 2: findings resolved and not seen since, so one that comes back is known as reopened.
    "CREATE TABLE resolved (
        subject INTEGER NOT NULL, rule INTEGER NOT NULL, resolved_at INTEGER NOT NULL,
        PRIMARY KEY (subject, rule)
     ) WITHOUT ROWID;",
];

/// Why the history cannot be used; the scan goes on without it.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    /// Written by a newer keytriage: left untouched.
    #[error(
        "history {path} was written by a newer keytriage (schema {found}, this one knows {known}); not recording — upgrade keytriage or pass --history with another file"
    )]
    Newer {
        /// The database.
        path: PathBuf,
        /// Its `user_version`.
        found: i64,
        /// [`MIGRATIONS`]`.len()`.
        known: usize,
    },
    /// Locked past [`BUSY_TIMEOUT`], corrupt, not a database, unwritable…
    #[error("history {path}: {message}")]
    Sqlite {
        /// The database.
        path: PathBuf,
        /// SQLite's words, e.g. `database is locked`, `file is not a database`.
        message: String,
    },
    /// A recorded value this keytriage cannot read (an unknown rule id, a bad account id).
    #[error("history {path}: unreadable record: {message}")]
    Bad {
        /// The database.
        path: PathBuf,
        /// What.
        message: String,
    },
}

/// One recorded scan, as `keytriage history` lists it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ScanSummary {
    /// The scan's number in this database (1, 2, …).
    pub id: i64,
    /// When it ran (UTC).
    pub generated_at: Timestamp,
    /// Who ran it (caller ARN), when known.
    pub caller: Option<String>,
    /// Accounts scanned in full.
    pub accounts_ok: u32,
    /// Accounts failed (in full or in part) or skipped.
    pub accounts_failed: u32,
    /// Findings not excepted, by severity, worst first (critical, high, medium, low, info).
    pub by_severity: [u32; 5],
    /// Findings excepted.
    pub excepted: u32,
    /// Findings new since the scan before it.
    pub new: u32,
    /// Findings resolved since the scan before it.
    pub resolved: u32,
}

/// One recorded finding: identity, severity, status (`None`: carried), first seen.
type FindingRow = (FindingId, Severity, Option<Status>, Timestamp);

/// An open history database.
pub struct History {
    conn: Connection,
    path: PathBuf,
    /// Account ids as text, by their integer form (a scan reads thousands of rows per account).
    ids: std::cell::RefCell<HashMap<i64, AccountId>>,
}

/// The default path: `<data dir>/history.db`.
pub fn default_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "keytriage").map(|d| d.data_local_dir().join("history.db"))
}

fn secs(t: Timestamp) -> i64 {
    t.timestamp()
}

fn time(s: i64) -> Timestamp {
    chrono::DateTime::from_timestamp(s, 0).unwrap_or_default()
}

fn status_code(s: Status) -> i64 {
    match s {
        Status::New => 0,
        Status::Open => 1,
        Status::Excepted => 2,
    }
}

/// Status code of a finding carried from an account not checked in full.
const UNCHECKED: i64 = 3;

fn severity_code(s: Severity) -> i64 {
    Severity::ALL.iter().position(|x| *x == s).map_or(0, |i| i as i64)
}

fn account_num(id: &AccountId) -> i64 {
    id.as_str().parse().unwrap_or(0)
}

impl History {
    /// Opens (creating it and its directory if needed) and migrates the database at `path`.
    ///
    /// # Errors
    /// [`HistoryError::Newer`] for a database from a newer keytriage; [`HistoryError::Sqlite`]
    /// when it cannot be created, is corrupt or not a database, or stays locked past
    /// [`BUSY_TIMEOUT`].
    pub fn open(path: &Path) -> Result<Self, HistoryError> {
        Self::open_with_timeout(path, BUSY_TIMEOUT)
    }

    /// [`Self::open`] with another busy timeout (how long to wait for another writer).
    ///
    /// # Errors
    /// As [`Self::open`].
    pub fn open_with_timeout(path: &Path, busy: Duration) -> Result<Self, HistoryError> {
        let sql = |e: rusqlite::Error| HistoryError::Sqlite {
            path: path.to_path_buf(),
            message: e.to_string(),
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| HistoryError::Sqlite {
                path: path.to_path_buf(),
                message: format!("cannot create its directory: {e}"),
            })?;
        }
        let mut conn = Connection::open(path).map_err(sql)?;
        conn.busy_timeout(busy).map_err(sql)?;
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(sql)?;
        if version > MIGRATIONS.len() as i64 {
            return Err(HistoryError::Newer {
                path: path.to_path_buf(),
                found: version,
                known: MIGRATIONS.len(),
            });
        }
        let _: String = conn
            .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
            .map_err(sql)?;
        conn.pragma_update(None, "synchronous", "NORMAL").map_err(sql)?;
        // A page cache of up to 32 MiB (SQLite's default is 2 MiB): reading one scan of
        // 100,000 keys joins its rows to the interned subjects, which thrashes a small cache
        // once the file holds a year of scans.
        conn.pragma_update(None, "cache_size", -32_768).map_err(sql)?;
        for (i, script) in MIGRATIONS
            .iter()
            .enumerate()
            .skip(usize::try_from(version).unwrap_or(0))
        {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(sql)?;
            // Another keytriage may have migrated while this one waited for the lock.
            let now: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(sql)?;
            if now > i as i64 {
                continue;
            }
            tx.execute_batch(script).map_err(sql)?;
            tx.pragma_update(None, "user_version", i as i64 + 1).map_err(sql)?;
            tx.commit().map_err(sql)?;
        }
        Ok(Self {
            conn,
            path: path.to_path_buf(),
            ids: std::cell::RefCell::default(),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn sql(&self, e: rusqlite::Error) -> HistoryError {
        HistoryError::Sqlite {
            path: self.path.clone(),
            message: e.to_string(),
        }
    }

    fn bad(&self, message: String) -> HistoryError {
        HistoryError::Bad {
            path: self.path.clone(),
            message,
        }
    }

    /// The latest recorded scan's id, if any.
    ///
    /// # Errors
    /// [`HistoryError::Sqlite`].
    pub fn latest(&self) -> Result<Option<i64>, HistoryError> {
        self.conn
            .query_row("SELECT max(id) FROM scan", [], |r| r.get(0))
            .map_err(|e| self.sql(e))
    }

    /// The latest recorded scan as [`crate::triage::triage`] needs it (its open findings,
    /// carried ones included); `None` when nothing is recorded.
    ///
    /// # Errors
    /// [`HistoryError`] when it cannot be read.
    pub fn previous(&self) -> Result<Option<Previous>, HistoryError> {
        let Some(id) = self.latest()? else {
            return Ok(None);
        };
        let at: i64 = self
            .conn
            .query_row("SELECT generated_at FROM scan WHERE id = ?1", [id], |r| r.get(0))
            .map_err(|e| self.sql(e))?;
        let rows = self.findings(id, true)?;
        let mut resolved = HashMap::new();
        {
            let mut st = self
                .conn
                .prepare(
                    "SELECT r.name, s.account, s.user, s.credential, x.resolved_at
                     FROM resolved x JOIN subject s ON s.id = x.subject JOIN rule r ON r.id = x.rule",
                )
                .map_err(|e| self.sql(e))?;
            let rules: HashMap<&str, Rule> = Rule::ALL.iter().map(|r| (r.id(), *r)).collect();
            let it = st
                .query_map([], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, Option<String>>(3)?,
                        r.get::<_, i64>(4)?,
                    ))
                })
                .map_err(|e| self.sql(e))?;
            for row in it {
                let (rule, account, user, cred, at) = row.map_err(|e| self.sql(e))?;
                // A rule this keytriage no longer knows cannot come back: skip it.
                let Some(rule) = rules.get(rule.as_str()) else { continue };
                let id = FindingId {
                    rule: *rule,
                    account_id: self.account_id(account)?,
                    user,
                    access_key_id: cred.map(AccessKeyId),
                };
                resolved.insert(id, time(at));
            }
        }
        Ok(Some(Previous {
            resolved,
            generated_at: Some(time(at)),
            findings: rows
                .into_iter()
                .map(|(id, severity, _, first_seen)| Recorded {
                    id,
                    severity,
                    first_seen,
                })
                .collect(),
        }))
    }

    /// Findings of scan `id`: (identity, severity, status, first seen); with `carried`, the
    /// findings carried from accounts it did not check (status `None`) too.
    fn findings(&self, id: i64, carried: bool) -> Result<Vec<FindingRow>, HistoryError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT r.name, s.account, s.user, s.credential, f.severity, f.status, f.first_seen
                 FROM finding f JOIN subject s ON s.id = f.subject JOIN rule r ON r.id = f.rule
                 WHERE f.scan_id = ?1",
            )
            .map_err(|e| self.sql(e))?;
        let rows = stmt
            .query_map([id], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, i64>(4)?,
                    r.get::<_, i64>(5)?,
                    r.get::<_, i64>(6)?,
                ))
            })
            .map_err(|e| self.sql(e))?;
        let rules: HashMap<&str, Rule> = Rule::ALL.iter().map(|r| (r.id(), *r)).collect();
        let mut out = Vec::new();
        for row in rows {
            let (rule, account, user, cred, sev, status, first) = row.map_err(|e| self.sql(e))?;
            if status == UNCHECKED && !carried {
                continue;
            }
            let rule = *rules
                .get(rule.as_str())
                .ok_or_else(|| self.bad(format!("unknown rule '{rule}'")))?;
            let status = match status {
                0 => Some(Status::New),
                1 => Some(Status::Open),
                2 => Some(Status::Excepted),
                _ => None,
            };
            out.push((
                FindingId {
                    rule,
                    account_id: self.account_id(account)?,
                    user,
                    access_key_id: cred.map(AccessKeyId),
                },
                Severity::ALL.get(sev as usize).copied().unwrap_or(Severity::Info),
                status,
                time(first),
            ));
        }
        Ok(out)
    }

    fn account_id(&self, n: i64) -> Result<AccountId, HistoryError> {
        if let Some(id) = self.ids.borrow().get(&n) {
            return Ok(id.clone());
        }
        let id = AccountId::parse(&format!("{n:012}")).map_err(|e| self.bad(e.to_string()))?;
        self.ids.borrow_mut().insert(n, id.clone());
        Ok(id)
    }

    /// Records one scan in one transaction and returns its id. `triage` is what
    /// [`crate::triage::triage`] decided for `findings` (same order); its unchecked findings
    /// are carried with it.
    ///
    /// # Errors
    /// [`HistoryError::Sqlite`] (locked past [`BUSY_TIMEOUT`], disk full…); nothing is
    /// recorded then.
    pub fn record(
        &mut self,
        generated_at: Timestamp,
        caller: Option<&str>,
        accounts: &[AccountScan],
        findings: &[Finding],
        triage: &Outcome,
    ) -> Result<i64, HistoryError> {
        let path = self.path.clone();
        let sql = |e: rusqlite::Error| HistoryError::Sqlite {
            path: path.clone(),
            message: e.to_string(),
        };
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql)?;
        let ok = accounts
            .iter()
            .filter(|a| a.scan.status == ScanStatus::Ok && !a.scan.partial)
            .count();
        let mut by = [0i64; 5];
        for (f, t) in findings.iter().zip(&triage.per_finding) {
            if t.status != Status::Excepted {
                by[severity_code(f.severity) as usize] += 1;
            }
        }
        let c = &triage.changes;
        tx.execute(
            "INSERT INTO scan (generated_at, caller, accounts_ok, accounts_failed, critical, high,
               medium, low, info, excepted, new, resolved)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            params![
                secs(generated_at),
                caller,
                ok as i64,
                (accounts.len() - ok) as i64,
                by[0],
                by[1],
                by[2],
                by[3],
                by[4],
                c.excepted as i64,
                c.new as i64,
                c.resolved as i64
            ],
        )
        .map_err(sql)?;
        let scan_id = tx.last_insert_rowid();
        {
            let mut st = tx
                .prepare("INSERT INTO scan_account VALUES (?1, ?2, ?3, ?4)")
                .map_err(sql)?;
            for a in accounts {
                let status = match a.scan.status {
                    ScanStatus::Ok => 0,
                    ScanStatus::Failed => 1,
                    ScanStatus::Skipped => 2,
                };
                st.execute(params![scan_id, account_num(&a.account.id), status, a.scan.partial])
                    .map_err(sql)?;
            }
        }
        // Interned rules and subjects, loaded inside the write transaction so two writers
        // never intern the same subject twice.
        let mut rules: HashMap<String, i64> = HashMap::new();
        {
            let mut st = tx.prepare("SELECT name, id FROM rule").map_err(sql)?;
            for r in st
                .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
                .map_err(sql)?
            {
                let (n, i) = r.map_err(sql)?;
                rules.insert(n, i);
            }
        }
        let mut subjects: HashMap<(i64, String, Option<String>), i64> = HashMap::new();
        {
            let mut st = tx
                .prepare("SELECT account, user, credential, id FROM subject")
                .map_err(sql)?;
            for r in st
                .query_map([], |r| {
                    Ok((
                        (
                            r.get::<_, i64>(0)?,
                            r.get::<_, String>(1)?,
                            r.get::<_, Option<String>>(2)?,
                        ),
                        r.get::<_, i64>(3)?,
                    ))
                })
                .map_err(sql)?
            {
                let (k, i) = r.map_err(sql)?;
                subjects.insert(k, i);
            }
        }
        {
            let mut new_rule = tx.prepare("INSERT INTO rule (name) VALUES (?1)").map_err(sql)?;
            let mut new_subject = tx
                .prepare("INSERT INTO subject (account, user, credential) VALUES (?1, ?2, ?3)")
                .map_err(sql)?;
            let mut subject = |account: i64, user: &str, cred: Option<&str>| -> Result<i64, HistoryError> {
                let key = (account, user.to_owned(), cred.map(str::to_owned));
                if let Some(i) = subjects.get(&key) {
                    return Ok(*i);
                }
                new_subject.execute(params![account, user, cred]).map_err(sql)?;
                let i = tx.last_insert_rowid();
                subjects.insert(key, i);
                Ok(i)
            };
            let mut ins_finding = tx
                .prepare("INSERT OR IGNORE INTO finding VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
                .map_err(sql)?;
            let mut ids = |id: &FindingId| -> Result<(i64, i64), HistoryError> {
                let rule = match rules.get(id.rule.id()) {
                    Some(r) => *r,
                    None => {
                        new_rule.execute([id.rule.id()]).map_err(sql)?;
                        let r = tx.last_insert_rowid();
                        rules.insert(id.rule.id().to_owned(), r);
                        r
                    }
                };
                let s = subject(
                    account_num(&id.account_id),
                    &id.user,
                    id.access_key_id.as_ref().map(AccessKeyId::as_str),
                )?;
                Ok((s, rule))
            };
            let mut unresolve = tx
                .prepare("DELETE FROM resolved WHERE subject = ?1 AND rule = ?2")
                .map_err(sql)?;
            for (f, t) in findings.iter().zip(&triage.per_finding) {
                let (s, rule) = ids(&FindingId::of(f))?;
                ins_finding
                    .execute(params![
                        scan_id,
                        s,
                        rule,
                        severity_code(f.severity),
                        status_code(t.status),
                        secs(t.first_seen)
                    ])
                    .map_err(sql)?;
                if t.reopened_after.is_some() {
                    unresolve.execute(params![s, rule]).map_err(sql)?;
                }
            }
            for r in &triage.unchecked {
                let (s, rule) = ids(&r.id)?;
                ins_finding
                    .execute(params![
                        scan_id,
                        s,
                        rule,
                        severity_code(r.severity),
                        UNCHECKED,
                        secs(r.first_seen)
                    ])
                    .map_err(sql)?;
            }
            let mut resolve = tx
                .prepare("INSERT OR REPLACE INTO resolved VALUES (?1, ?2, ?3)")
                .map_err(sql)?;
            for r in &triage.resolved {
                let (s, rule) = ids(&r.id)?;
                resolve.execute(params![s, rule, secs(generated_at)]).map_err(sql)?;
            }
            let mut ins_key = tx
                .prepare("INSERT OR IGNORE INTO key_state VALUES (?1, ?2, ?3, ?4, ?5)")
                .map_err(sql)?;
            for a in accounts {
                let n = account_num(&a.account.id);
                for u in &a.users {
                    for k in &u.access_keys {
                        let s = subject(n, &u.name, Some(k.id.as_str()))?;
                        let status = i64::from(k.status == KeyStatus::Inactive);
                        ins_key
                            .execute(params![
                                scan_id,
                                s,
                                status,
                                secs(k.created),
                                k.last_used.as_ref().map(|l| secs(l.date))
                            ])
                            .map_err(sql)?;
                    }
                }
            }
        }
        tx.commit().map_err(sql)?;
        Ok(scan_id)
    }

    /// Every recorded scan, oldest first.
    ///
    /// # Errors
    /// [`HistoryError::Sqlite`].
    pub fn list(&self) -> Result<Vec<ScanSummary>, HistoryError> {
        let mut st = self
            .conn
            .prepare(
                "SELECT id, generated_at, caller, accounts_ok, accounts_failed, critical, high,
                   medium, low, info, excepted, new, resolved FROM scan ORDER BY id",
            )
            .map_err(|e| self.sql(e))?;
        let rows = st
            .query_map([], |r| {
                Ok(ScanSummary {
                    id: r.get(0)?,
                    generated_at: time(r.get(1)?),
                    caller: r.get(2)?,
                    accounts_ok: r.get(3)?,
                    accounts_failed: r.get(4)?,
                    by_severity: [r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?, r.get(9)?],
                    excepted: r.get(10)?,
                    new: r.get(11)?,
                    resolved: r.get(12)?,
                })
            })
            .map_err(|e| self.sql(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.sql(e))
    }

    /// Scan `id` reduced for [`crate::triage::diff`]; `None` when there is no such scan.
    ///
    /// # Errors
    /// [`HistoryError`] when it cannot be read.
    pub fn snapshot(&self, id: i64) -> Result<Option<Snapshot>, HistoryError> {
        let at: Option<i64> = self
            .conn
            .query_row("SELECT generated_at FROM scan WHERE id = ?1", [id], |r| r.get(0))
            .optional()
            .map_err(|e| self.sql(e))?;
        let Some(at) = at else { return Ok(None) };
        let mut snap = Snapshot {
            generated_at: Some(time(at)),
            ..Snapshot::default()
        };
        {
            let mut st = self
                .conn
                .prepare("SELECT account, status, partial FROM scan_account WHERE scan_id = ?1")
                .map_err(|e| self.sql(e))?;
            let rows = st
                .query_map([id], |r| {
                    Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, bool>(2)?))
                })
                .map_err(|e| self.sql(e))?;
            for row in rows {
                let (a, status, partial) = row.map_err(|e| self.sql(e))?;
                snap.accounts.insert(self.account_id(a)?, status == 0 && !partial);
            }
        }
        for (fid, sev, status, _) in self.findings(id, false)? {
            snap.findings.insert(fid, (sev, status));
        }
        let mut st = self
            .conn
            .prepare(
                "SELECT s.account, s.user, s.credential, k.status FROM key_state k
                 JOIN subject s ON s.id = k.subject WHERE k.scan_id = ?1",
            )
            .map_err(|e| self.sql(e))?;
        let rows = st
            .query_map([id], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, i64>(3)?,
                ))
            })
            .map_err(|e| self.sql(e))?;
        for row in rows {
            let (a, user, cred, status) = row.map_err(|e| self.sql(e))?;
            let status = if status == 0 {
                KeyStatus::Active
            } else {
                KeyStatus::Inactive
            };
            snap.keys.insert(
                (self.account_id(a)?, user, AccessKeyId(cred.unwrap_or_default())),
                status,
            );
        }
        Ok(Some(snap))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exceptions::Exception;
    use crate::model::{AccessKey, Account, AccountState, RootUser, User};
    use crate::triage::triage;
    use chrono::TimeZone;

    fn t(d: u32) -> Timestamp {
        chrono::Utc.with_ymd_and_hms(2026, 11, d, 9, 0, 0).unwrap()
    }

    fn org(keys: &[(&str, &str, KeyStatus)]) -> Vec<AccountScan> {
        let users = keys
            .iter()
            .map(|(user, key, status)| User {
                credentials: Vec::new(),
                name: (*user).into(),
                arn: String::new(),
                path: "/".into(),
                created: t(1),
                password_enabled: false,
                password_last_used: None,
                mfa_active: false,
                mfa_devices: vec![],
                access_keys: vec![AccessKey {
                    id: AccessKeyId((*key).into()),
                    status: *status,
                    created: t(1),
                    last_used: None,
                }],
            })
            .collect();
        let account = Account {
            id: AccountId::parse("012345678901").unwrap(),
            name: "prod".into(),
            email: String::new(),
            state: AccountState::Active,
            ou_path: "/".into(),
        };
        let root = RootUser {
            signing_certificates: Vec::new(),
            access_keys_present: false,
            mfa_enabled: true,
            mfa_kind: None,
            access_keys: vec![],
        };
        vec![AccountScan::ok(account, root, users, vec![])]
    }

    fn finding(user: &str, key: &str) -> Finding {
        Finding {
            credential: None,
            rule: Rule::KeyNotRotated,
            severity: Severity::High,
            account_id: AccountId::parse("012345678901").unwrap(),
            user: user.into(),
            access_key_id: Some(AccessKeyId(key.into())),
            detail: String::new(),
            controls: &[],
        }
    }

    fn record(h: &mut History, at: Timestamp, accounts: &[AccountScan], findings: &[Finding]) -> Outcome {
        let prev = h.previous().unwrap();
        let o = triage(findings, accounts, &[] as &[Exception], prev.as_ref(), at);
        h.record(at, Some("arn:aws:iam::012345678901:user/ci"), accounts, findings, &o)
            .unwrap();
        o
    }

    #[test]
    fn a_recorded_scan_is_the_next_ones_previous_and_diffs_as_recorded() {
        let dir = tempfile::tempdir().unwrap();
        let mut h = History::open(&dir.path().join("a/history.db")).unwrap();
        assert_eq!(h.previous().unwrap(), None);
        let accounts = org(&[
            ("alice", "AKIA1", KeyStatus::Active),
            ("bob", "AKIA2", KeyStatus::Active),
        ]);
        let both = [finding("alice", "AKIA1"), finding("bob", "AKIA2")];
        record(&mut h, t(2), &accounts, &both);
        let accounts2 = org(&[("alice", "AKIA1", KeyStatus::Inactive)]);
        let o = record(&mut h, t(9), &accounts2, &both[..1]);
        assert_eq!(o.per_finding[0].status, Status::Open);
        assert_eq!(o.per_finding[0].first_seen, t(2));
        assert_eq!(o.resolved.len(), 1);
        let prev = h.previous().unwrap().unwrap();
        assert_eq!(prev.generated_at, Some(t(9)));
        assert_eq!(prev.findings[0].first_seen, t(2), "first_seen survives");
        assert_eq!(
            prev.findings[0].id.account_id.as_str(),
            "012345678901",
            "leading zero kept"
        );
        let list = h.list().unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(
            (list[1].by_severity, list[1].new, list[1].resolved),
            ([0, 1, 0, 0, 0], 0, 1)
        );
        assert_eq!(list[0].new, 2);
        assert_eq!(list[1].caller.as_deref(), Some("arn:aws:iam::012345678901:user/ci"));
        let d = crate::triage::diff(&h.snapshot(1).unwrap().unwrap(), &h.snapshot(2).unwrap().unwrap());
        assert_eq!(d.resolved.len(), 1);
        assert_eq!(d.resolved[0].0.user, "bob");
        assert_eq!(
            d.keys
                .iter()
                .map(|k| (k.user.as_str(), k.from, k.to))
                .collect::<Vec<_>>(),
            [
                ("alice", Some(KeyStatus::Active), Some(KeyStatus::Inactive)),
                ("bob", Some(KeyStatus::Active), None)
            ]
        );
        assert_eq!(h.snapshot(3).unwrap(), None);
    }

    #[test]
    fn findings_of_an_account_that_failed_are_carried_with_their_first_seen() {
        let dir = tempfile::tempdir().unwrap();
        let mut h = History::open(&dir.path().join("history.db")).unwrap();
        let accounts = org(&[("alice", "AKIA1", KeyStatus::Active)]);
        let f = [finding("alice", "AKIA1")];
        record(&mut h, t(2), &accounts, &f);
        let mut failed = accounts.clone();
        failed[0].scan.status = ScanStatus::Failed;
        failed[0].users.clear();
        let o = record(&mut h, t(9), &failed, &[]);
        assert_eq!((o.resolved.len(), o.unchecked.len()), (0, 1));
        let o = record(&mut h, t(16), &accounts, &f);
        assert_eq!(o.per_finding[0].status, Status::Open);
        assert_eq!(
            o.per_finding[0].first_seen,
            t(2),
            "open since the first scan, across the failed one"
        );
        // The failed scan's diff calls it unchecked, not resolved.
        let d = crate::triage::diff(&h.snapshot(1).unwrap().unwrap(), &h.snapshot(2).unwrap().unwrap());
        assert_eq!((d.resolved.len(), d.unchecked.len()), (0, 1));
    }

    #[test]
    fn a_resolved_finding_that_comes_back_is_reopened_once() {
        let dir = tempfile::tempdir().unwrap();
        let mut h = History::open(&dir.path().join("history.db")).unwrap();
        let accounts = org(&[("alice", "AKIA1", KeyStatus::Active)]);
        let f = [finding("alice", "AKIA1")];
        record(&mut h, t(2), &accounts, &f);
        let o = record(&mut h, t(9), &accounts, &[]);
        assert_eq!(o.resolved.len(), 1);
        let o = record(&mut h, t(16), &accounts, &f);
        let tr = &o.per_finding[0];
        assert_eq!(
            (tr.status, tr.first_seen, tr.reopened_after),
            (Status::New, t(16), Some(t(9)))
        );
        let o = record(&mut h, t(23), &accounts, &f);
        let tr = &o.per_finding[0];
        assert_eq!(
            (tr.status, tr.first_seen, tr.reopened_after),
            (Status::Open, t(16), None)
        );
        let left: i64 = h
            .conn
            .query_row("SELECT count(*) FROM resolved", [], |r| r.get(0))
            .unwrap();
        assert_eq!(left, 0, "no longer resolved once back");
    }

    #[test]
    fn a_version_1_database_is_migrated_and_keeps_its_scans() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.db");
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(MIGRATIONS[0]).unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        conn.execute(
            "INSERT INTO scan VALUES (1, 1764000000, 'arn:x', 2, 0, 0, 1, 0, 0, 0, 0, 1, 0)",
            [],
        )
        .unwrap();
        drop(conn);
        let h = History::open(&path).unwrap();
        let v: i64 = h.conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        assert_eq!(v, 2);
        let list = h.list().unwrap();
        assert_eq!((list.len(), list[0].caller.as_deref()), (1, Some("arn:x")));
        assert_eq!(h.previous().unwrap().unwrap().resolved.len(), 0);
    }

    #[test]
    fn two_writers_at_once_both_land() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.db");
        std::thread::scope(|s| {
            for w in 0..2 {
                let path = &path;
                s.spawn(move || {
                    let mut h = History::open(path).unwrap();
                    for i in 0..10 {
                        let key = format!("AKIA{w}{i}");
                        let accounts = org(&[("alice", &key, KeyStatus::Active)]);
                        record(&mut h, t(1 + i), &accounts, &[finding("alice", &key)]);
                    }
                });
            }
        });
        let h = History::open(&path).unwrap();
        let list = h.list().unwrap();
        assert_eq!(list.len(), 20);
        assert_eq!(
            list.iter().map(|s| s.id).collect::<Vec<_>>(),
            (1..=20).collect::<Vec<_>>()
        );
        let subjects: i64 = h
            .conn
            .query_row("SELECT count(*) FROM subject", [], |r| r.get(0))
            .unwrap();
        assert_eq!(subjects, 20, "each key interned once");
    }

    #[test]
    fn a_locked_database_fails_the_record_not_the_caller() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.db");
        drop(History::open(&path).unwrap());
        let holder = Connection::open(&path).unwrap();
        holder.execute_batch("BEGIN EXCLUSIVE").unwrap();
        let mut h = History::open_with_timeout(&path, Duration::from_millis(100)).unwrap();
        let accounts = org(&[("alice", "AKIA1", KeyStatus::Active)]);
        let f = [finding("alice", "AKIA1")];
        let o = triage(&f, &accounts, &[] as &[Exception], None, t(2));
        let e = h.record(t(2), None, &accounts, &f, &o).unwrap_err();
        assert_eq!(e.to_string(), format!("history {}: database is locked", path.display()));
        holder.execute_batch("COMMIT").unwrap();
        h.record(t(2), None, &accounts, &f, &o).unwrap();
        assert_eq!(h.list().unwrap().len(), 1);
    }

    #[test]
    fn newer_and_corrupt_databases_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let newer = dir.path().join("newer.db");
        Connection::open(&newer)
            .unwrap()
            .pragma_update(None, "user_version", 7)
            .unwrap();
        let e = History::open(&newer).err().unwrap();
        assert!(matches!(e, HistoryError::Newer { found: 7, known: 2, .. }), "{e}");
        let corrupt = dir.path().join("corrupt.db");
        std::fs::write(&corrupt, vec![b'x'; 4096]).unwrap();
        let e = History::open(&corrupt).err().unwrap();
        assert_eq!(
            e.to_string(),
            format!("history {}: file is not a database", corrupt.display())
        );
        // Reopening a current database applies nothing twice.
        let ok = dir.path().join("ok.db");
        drop(History::open(&ok).unwrap());
        let h = History::open(&ok).unwrap();
        let v: i64 = h.conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        assert_eq!(v, MIGRATIONS.len() as i64);
    }
}
