//! Risk acceptance that expires: the exceptions file.
//!
//! A TOML file meant to live in version control (`exceptions.toml` in the config dir, or
//! `--exceptions PATH` / config key `exceptions`), one `[[exception]]` table per accepted
//! risk:
//!
//! ```toml
//! [[exception]]
//! rule = "key-not-rotated"          # a rule id
//! account = "111111111111"          # 12 digits
//! user = "ci-*"                     # optional; a glob (*, ?, [abc])
//! credential_id = "AKIA…"           # optional; one access key
//! reason = "vendor rotates in Q3"
//! approved_by = "arn:aws:iam::111111111111:user/alice"
//! expires = 2027-03-31              # a TOML date, required
//! ```
//!
//! An exception is in force before 00:00 UTC of its `expires` date: from that instant on it
//! has expired and the finding it covered is open again ("exception expired on DATE").
//! `expires` may lie at most `max_days` (default [`DEFAULT_MAX_DAYS`]) after the day the file
//! is read: there are no permanent exceptions. This module parses, validates, matches and
//! appends (preserving the file's comments and layout through `toml_edit`); deciding what a
//! match means for a finding is [`crate::triage`]'s job. It makes no AWS call.

use crate::audit::Rule;
use crate::model::{AccountId, Timestamp};
use crate::triage::FindingId;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The longest an exception may run, in days after the file is read, when the config does
/// not say (`exception_max_days`).
pub const DEFAULT_MAX_DAYS: u32 = 365;

/// One accepted risk.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Exception {
    /// The rule it covers.
    pub rule: Rule,
    /// The account it covers.
    pub account: AccountId,
    /// IAM user name or glob (`ci-*`); `None`: every user (and the root user) of the account.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// One access key id; `None`: any credential.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential_id: Option<String>,
    /// Why the risk is accepted.
    pub reason: String,
    /// Who accepted it (a name or an ARN).
    pub approved_by: String,
    /// The first UTC day on which it no longer applies.
    pub expires: NaiveDate,
    /// The line of its `[[exception]]` header in the file (1-based); 0 when built in code.
    #[serde(skip)]
    pub line: usize,
    #[serde(skip)]
    pattern: Option<glob::Pattern>,
}

impl Exception {
    /// Builds an exception (for the TUI dialog and tests).
    ///
    /// # Errors
    /// A `user` that is not a valid glob.
    pub fn new(
        rule: Rule,
        account: AccountId,
        user: Option<String>,
        credential_id: Option<String>,
        reason: String,
        approved_by: String,
        expires: NaiveDate,
    ) -> Result<Self, String> {
        let pattern = user
            .as_deref()
            .map(|u| glob::Pattern::new(u).map_err(|e| format!("user glob '{u}' is invalid: {e}")))
            .transpose()?;
        Ok(Self {
            rule,
            account,
            user,
            credential_id,
            reason,
            approved_by,
            expires,
            line: 0,
            pattern,
        })
    }

    /// True when it covers the finding `id` (whatever the date).
    pub fn matches(&self, id: &FindingId) -> bool {
        self.rule == id.rule
            && self.account == id.account_id
            && self.pattern.as_ref().is_none_or(|p| p.matches(&id.user))
            && self
                .credential_id
                .as_deref()
                .is_none_or(|c| id.access_key_id.as_ref().is_some_and(|k| k.as_str() == c))
    }

    /// True before 00:00 UTC of `expires`.
    pub fn in_force(&self, now: Timestamp) -> bool {
        now.date_naive() < self.expires
    }
}

/// An exceptions file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ExceptionsError {
    /// The file cannot be read (or, when appending, written).
    #[error("cannot {verb} exceptions file {path}: {source}")]
    Io {
        /// `read` or `write`.
        verb: &'static str,
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Bad TOML, an unknown key, a missing field or a bad value.
    #[error("exceptions file {path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong, with line and column.
        message: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    exception: Vec<toml::Spanned<RawException>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawException {
    rule: Rule,
    account: AccountId,
    user: Option<toml::Spanned<String>>,
    credential_id: Option<String>,
    reason: String,
    approved_by: String,
    expires: toml::Spanned<toml::value::Datetime>,
}

/// The default path: `<config dir>/exceptions.toml`, if the platform has a config dir.
pub fn default_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "keytriage").map(|d| d.config_dir().join("exceptions.toml"))
}

/// Loads `explicit` (which must exist) or else the default path (absent: no exceptions).
///
/// # Errors
/// As [`parse`], or the file named by `explicit` cannot be read.
pub fn load(explicit: Option<&Path>, max_days: u32, now: Timestamp) -> Result<Vec<Exception>, ExceptionsError> {
    let path = match explicit {
        Some(p) => p.to_path_buf(),
        None => match default_path() {
            Some(p) if p.exists() => p,
            _ => return Ok(Vec::new()),
        },
    };
    let text = std::fs::read_to_string(&path).map_err(|source| ExceptionsError::Io {
        verb: "read",
        path: path.clone(),
        source,
    })?;
    parse(&text, &path, max_days, now)
}

/// Line and column (1-based) of byte `offset` in `text`.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// Parses an exceptions file; `path` only names it in errors, `now` and `max_days` bound
/// `expires`.
///
/// # Errors
/// [`ExceptionsError::Parse`] with line and column for: invalid TOML, an unknown key, a
/// missing field (`expires` included), an unknown rule, a bad account id, a user glob that
/// does not parse, an `expires` that is not a plain date or lies more than `max_days` days
/// after `now`'s UTC day.
pub fn parse(text: &str, path: &Path, max_days: u32, now: Timestamp) -> Result<Vec<Exception>, ExceptionsError> {
    let err = |message: String| ExceptionsError::Parse {
        path: path.to_path_buf(),
        message,
    };
    let at = |offset: usize, what: String| {
        let (line, col) = line_col(text, offset);
        err(format!("line {line}, column {col}: {what}"))
    };
    let raw: RawFile = toml::from_str(text).map_err(|e| err(e.to_string().trim_end().to_owned()))?;
    let latest = now.date_naive() + chrono::Days::new(u64::from(max_days));
    let mut out = Vec::with_capacity(raw.exception.len());
    for spanned in raw.exception {
        let start = spanned.span().start;
        let r = spanned.into_inner();
        let (span, dt) = (r.expires.span(), r.expires.into_inner());
        let expires = match (dt.date, dt.time) {
            (Some(d), None) => NaiveDate::from_ymd_opt(i32::from(d.year), u32::from(d.month), u32::from(d.day)),
            _ => None,
        }
        .ok_or_else(|| at(span.start, format!("expires must be a date like 2027-03-31, not {dt}")))?;
        if expires > latest {
            return Err(at(
                span.start,
                format!("expires {expires} is more than {max_days} days away (latest allowed: {latest})"),
            ));
        }
        let (user, user_at) = match r.user {
            Some(u) => (Some(u.get_ref().clone()), u.span().start),
            None => (None, 0),
        };
        let mut e = Exception::new(
            r.rule,
            r.account,
            user,
            r.credential_id,
            r.reason,
            r.approved_by,
            expires,
        )
        .map_err(|m| at(user_at, m))?;
        // The span of an array-of-tables element starts at its `[[exception]]` header.
        e.line = line_col(text, start).0;
        out.push(e);
    }
    Ok(out)
}

/// Appends `e` as a new `[[exception]]` table at the end of the file at `path` (created
/// when absent), keeping every existing comment, blank line and key order byte for byte.
/// The file is replaced atomically (a temporary file beside it, renamed over it). Returns
/// the line (1-based) of its `[[exception]]` header in the file as written.
///
/// # Errors
/// The file cannot be read or written, or it is not valid TOML (it is then left alone).
pub fn append(path: &Path, e: &Exception) -> Result<usize, ExceptionsError> {
    Ok(append_all(path, std::slice::from_ref(e), None)?
        .first()
        .copied()
        .unwrap_or_default())
}

/// Appends every entry of `entries` (in order) in one atomic replacement of the file at
/// `path`, as [`append`] does for one. With `check = Some((max_days, now))` the existing file
/// must also pass [`parse`] (known rules, dates within `max_days` of `now`…): a file that is
/// wrong is refused with its line and column and left alone, never made longer. Returns the
/// line (1-based) of each entry's `[[exception]]` header in the file as written, in order —
/// what [`parse`] would give as [`Exception::line`].
///
/// # Errors
/// The file cannot be read or written; it is not valid TOML; with `check`, it does not parse
/// as an exceptions file.
pub fn append_all(
    path: &Path,
    entries: &[Exception],
    check: Option<(u32, Timestamp)>,
) -> Result<Vec<usize>, ExceptionsError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(source) => {
            return Err(ExceptionsError::Io {
                verb: "read",
                path: path.to_path_buf(),
                source,
            });
        }
    };
    if let Some((max_days, now)) = check {
        parse(&text, path, max_days, now)?;
    }
    let mut doc: toml_edit::DocumentMut = text
        .parse()
        .map_err(|err: toml_edit::TomlError| ExceptionsError::Parse {
            path: path.to_path_buf(),
            message: err.to_string().trim_end().to_owned(),
        })?;
    let io = |source| ExceptionsError::Io {
        verb: "write",
        path: path.to_path_buf(),
        source,
    };
    if doc.get("exception").is_none() {
        doc.insert(
            "exception",
            toml_edit::Item::ArrayOfTables(toml_edit::ArrayOfTables::new()),
        );
    }
    let mut new: Vec<toml_edit::Table> = entries.iter().map(table).collect();
    // Text after the last item (a header of comments in a file with no table yet) would be
    // written after the new tables: it stays where it was, before them.
    let trailing = doc.trailing().as_str().unwrap_or_default().to_owned();
    if !trailing.trim().is_empty()
        && let Some(first) = new.first_mut()
    {
        first.decor_mut().set_prefix(format!("{trailing}\n"));
        doc.set_trailing("");
    }
    let Some(tables) = doc
        .get_mut("exception")
        .and_then(toml_edit::Item::as_array_of_tables_mut)
    else {
        return Err(ExceptionsError::Parse {
            path: path.to_path_buf(),
            message: "`exception` is not an array of tables ([[exception]])".into(),
        });
    };
    for t in new {
        tables.push(t);
    }
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).map_err(io)?;
    let out = doc.to_string();
    // The new tables are the last ones written: their headers are the last `[[exception]]`
    // lines (values are one-line strings, so no header text hides inside one).
    let headers: Vec<usize> = out
        .lines()
        .enumerate()
        .filter(|(_, l)| l.trim() == "[[exception]]")
        .map(|(i, _)| i + 1)
        .collect();
    let lines = headers[headers.len().saturating_sub(entries.len())..].to_vec();
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
    std::io::Write::write_all(&mut tmp, out.as_bytes()).map_err(io)?;
    tmp.persist(path).map_err(|e| io(e.error))?;
    Ok(lines)
}

/// `e` as an `[[exception]]` table, keys in the documented order.
fn table(e: &Exception) -> toml_edit::Table {
    let mut t = toml_edit::Table::new();
    t["rule"] = toml_edit::value(e.rule.id());
    t["account"] = toml_edit::value(e.account.as_str());
    if let Some(u) = &e.user {
        t["user"] = toml_edit::value(u.as_str());
    }
    if let Some(c) = &e.credential_id {
        t["credential_id"] = toml_edit::value(c.as_str());
    }
    t["reason"] = toml_edit::value(e.reason.as_str());
    t["approved_by"] = toml_edit::value(e.approved_by.as_str());
    let date = toml_edit::Date {
        year: u16::try_from(chrono::Datelike::year(&e.expires)).unwrap_or(9999),
        month: u8::try_from(chrono::Datelike::month(&e.expires)).unwrap_or(1),
        day: u8::try_from(chrono::Datelike::day(&e.expires)).unwrap_or(1),
    };
    t["expires"] = toml_edit::value(toml_edit::Datetime {
        date: Some(date),
        time: None,
        offset: None,
    });
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::AccessKeyId;
    use chrono::TimeZone;

    fn now() -> Timestamp {
        chrono::Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap()
    }

    const GOOD: &str = "# accepted risks, reviewed monthly\n\n[[exception]]\nrule = \"key-not-rotated\"\n\
        account = \"111111111111\"\nuser = \"ci-*\"\nreason = \"vendor\"  # ticket 42\n\
        approved_by = \"alice\"\nexpires = 2027-03-31\n";

    fn err(text: &str) -> String {
        parse(text, Path::new("/x/exceptions.toml"), 365, now())
            .unwrap_err()
            .to_string()
    }

    fn id(user: &str, key: Option<&str>) -> FindingId {
        FindingId {
            rule: Rule::KeyNotRotated,
            account_id: AccountId::parse("111111111111").unwrap(),
            user: user.into(),
            access_key_id: key.map(|k| AccessKeyId(k.into())),
        }
    }

    #[test]
    fn a_good_file_parses_with_its_line() {
        let v = parse(GOOD, Path::new("x"), 365, now()).unwrap();
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].rule, Rule::KeyNotRotated);
        assert_eq!(v[0].expires, NaiveDate::from_ymd_opt(2027, 3, 31).unwrap());
        assert_eq!(v[0].user.as_deref(), Some("ci-*"));
        assert_eq!(v[0].line, 3);
    }

    #[test]
    fn globs_and_credential_ids_match() {
        let e = &parse(GOOD, Path::new("x"), 365, now()).unwrap()[0];
        assert!(e.matches(&id("ci-deploy", None)));
        assert!(e.matches(&id("ci-deploy", Some("AKIA1"))));
        assert!(!e.matches(&id("alice", None)));
        let mut other = id("ci-deploy", None);
        other.rule = Rule::KeyUnused;
        assert!(!e.matches(&other));
        let k = Exception::new(
            Rule::KeyNotRotated,
            AccountId::parse("111111111111").unwrap(),
            None,
            Some("AKIA1".into()),
            "r".into(),
            "a".into(),
            e.expires,
        )
        .unwrap();
        assert!(k.matches(&id("bob", Some("AKIA1"))));
        assert!(!k.matches(&id("bob", Some("AKIA2"))));
        assert!(!k.matches(&id("bob", None)));
    }

    #[test]
    fn in_force_until_midnight_utc_of_expires() {
        let e = &parse(GOOD, Path::new("x"), 365, now()).unwrap()[0];
        let t = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap().to_utc();
        assert!(e.in_force(t("2027-03-30T23:59:59Z")));
        assert!(!e.in_force(t("2027-03-31T00:00:00Z")));
        // 23:30 on the 30th in New York is already the 31st in UTC.
        assert!(!e.in_force(t("2027-03-30T23:30:00-05:00")));
    }

    #[test]
    fn bad_input_names_file_line_and_column() {
        let e = err("[[exception]]\nrule = \"key-not-rotated\"\naccount = \"1\"\n");
        assert!(e.starts_with("exceptions file /x/exceptions.toml: "), "{e}");
        assert!(e.contains("line 3, column 11"), "{e}");
        let missing = GOOD.replace("expires = 2027-03-31\n", "");
        assert!(err(&missing).contains("missing field `expires`"), "{}", err(&missing));
        let far = GOOD.replace("2027-03-31", "2028-01-01");
        assert_eq!(
            err(&far),
            "exceptions file /x/exceptions.toml: line 9, column 11: expires 2028-01-01 is more than 365 days away (latest allowed: 2027-12-01)"
        );
        let glob = GOOD.replace("ci-*", "ci-[");
        assert!(
            err(&glob).contains("line 6, column 8: user glob 'ci-[' is invalid"),
            "{}",
            err(&glob)
        );
        let rule = GOOD.replace("key-not-rotated", "key-too-old");
        assert!(err(&rule).contains("line 4"), "{}", err(&rule));
        let time = GOOD.replace("2027-03-31", "2027-03-31T10:00:00Z");
        assert!(err(&time).contains("expires must be a date"), "{}", err(&time));
        assert!(err("[[exception]]\nrul = 1\n").contains("unknown field `rul`"));
    }

    #[test]
    fn append_to_a_file_of_comments_only_keeps_them_first() {
        // Found on the demo: a header comment with no table yet ended up after the new entry.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("exceptions.toml");
        let header = "# accepted risks — reviewed monthly\n# owner: security\n";
        std::fs::write(&path, header).unwrap();
        let e = Exception::new(
            Rule::KeyNotRotated,
            AccountId::parse("222222222222").unwrap(),
            Some("bob".into()),
            None,
            "r".into(),
            "a".into(),
            NaiveDate::from_ymd_opt(2027, 1, 15).unwrap(),
        )
        .unwrap();
        assert_eq!(append(&path, &e).unwrap(), 4);
        assert_eq!(append(&path, &e).unwrap(), 12);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with(&format!("{header}\n[[exception]]\n")), "{text}");
        let lines: Vec<usize> = parse(&text, &path, 365, now())
            .unwrap()
            .iter()
            .map(|e| e.line)
            .collect();
        assert_eq!(lines, vec![4, 12], "{text}");
        assert_eq!(text.matches("[[exception]]").count(), 2);
        assert!(text.ends_with("expires = 2027-01-15\n"), "{text}");
    }

    #[test]
    fn append_keeps_comments_and_layout() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("exceptions.toml");
        std::fs::write(&path, GOOD).unwrap();
        let e = Exception::new(
            Rule::InactiveKey,
            AccountId::parse("222222222222").unwrap(),
            Some("bob".into()),
            Some("AKIAB".into()),
            "decommission in progress".into(),
            "arn:aws:iam::222222222222:user/carol".into(),
            NaiveDate::from_ymd_opt(2027, 1, 15).unwrap(),
        )
        .unwrap();
        // The appended entry's line is its real line, not 0 (seen as "exception at line 0" in
        // the stale-exception warning of an entry added with `e`).
        assert_eq!(append(&path, &e).unwrap(), 11);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with(GOOD), "{text}");
        assert_eq!(
            &text[GOOD.len()..],
            "\n[[exception]]\nrule = \"inactive-key\"\naccount = \"222222222222\"\nuser = \"bob\"\n\
             credential_id = \"AKIAB\"\nreason = \"decommission in progress\"\n\
             approved_by = \"arn:aws:iam::222222222222:user/carol\"\nexpires = 2027-01-15\n"
        );
        let back = parse(&text, &path, 365, now()).unwrap();
        assert_eq!(back.len(), 2);
        assert_eq!(back[1].line, 11);
        assert!(back[1].matches(&FindingId {
            rule: Rule::InactiveKey,
            account_id: AccountId::parse("222222222222").unwrap(),
            user: "bob".into(),
            access_key_id: Some(AccessKeyId("AKIAB".into())),
        }));
        // A new file is created.
        let fresh = dir.path().join("sub/new.toml");
        assert_eq!(append(&fresh, &e).unwrap(), 1);
        let mut expect = e;
        expect.line = 1;
        assert_eq!(
            parse(&std::fs::read_to_string(&fresh).unwrap(), &fresh, 365, now()).unwrap(),
            vec![expect]
        );
    }
}
