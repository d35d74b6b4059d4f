//! The IAM credential report: fetching it (`GenerateCredentialReport` → poll →
//! `GetCredentialReport`) and parsing its CSV.
//!
//! Parsing is by header name, never by position; unknown columns are ignored; AWS's
//! sentinels (`N/A`, `no_information`, `not_supported`) are [`Cell`] values, never fed to a
//! date parser; a cell that should be a date and is not becomes a [`CellError`], not a panic.

use crate::model::{ROOT_USER, Timestamp};
use chrono::{DateTime, Utc};

/// How far apart two times must be before one counts as "after" the other in
/// [`ReportRow::impossibilities`]: clocks differ, and AWS rounds last-use times down.
pub const CLOCK_SLACK: chrono::TimeDelta = chrono::TimeDelta::hours(1);

/// One cell of the report: a value or one of AWS's sentinels.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum Cell<T> {
    /// A real value.
    Value(T),
    /// `N/A`: no such credential, or never used.
    NotApplicable,
    /// `no_information`: a credential exists but IAM has no record of its use.
    NoInformation,
    /// `not_supported`: the column does not apply (e.g. the root user's password fields).
    NotSupported,
    /// The column is missing or the cell unreadable (see `cell_errors`): the report cannot
    /// say, so callers ask the API instead of reading it as `N/A`.
    #[default]
    Unknown,
}

impl<T> Cell<T> {
    /// The value, if there is one.
    pub fn value(&self) -> Option<&T> {
        match self {
            Cell::Value(v) => Some(v),
            _ => None,
        }
    }
}

/// One access key slot (`access_key_1_*` or `access_key_2_*`) of a report row.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct KeySlot {
    /// `access_key_N_active`.
    pub active: Cell<bool>,
    /// `access_key_N_last_rotated`: the key's creation time, which matches
    /// `ListAccessKeys.CreateDate` (the report has no key ids).
    pub last_rotated: Cell<Timestamp>,
    /// `access_key_N_last_used_date`.
    pub last_used_date: Cell<Timestamp>,
    /// `access_key_N_last_used_region`.
    pub last_used_region: Cell<String>,
    /// `access_key_N_last_used_service`.
    pub last_used_service: Cell<String>,
}

impl KeySlot {
    /// True when the slot describes a key (its `last_rotated` is a date).
    pub fn has_key(&self) -> bool {
        self.last_rotated.value().is_some()
    }
}

/// One row of the report: one IAM user, or the root user ([`ROOT_USER`]).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ReportRow {
    /// `user`.
    pub user: String,
    /// `arn`.
    pub arn: String,
    /// `password_enabled` (`not_supported` for root).
    pub password_enabled: Cell<bool>,
    /// `user_creation_time`: tells a recreated user of the same name from the report's one.
    pub user_creation_time: Cell<Timestamp>,
    /// `mfa_active`.
    pub mfa_active: Cell<bool>,
    /// `access_key_1_*` and `access_key_2_*`.
    pub keys: [KeySlot; 2],
    /// `cert_1_*` and `cert_2_*`: the signing certificate slots.
    pub certs: [CertSlot; 2],
}

/// One signing certificate slot of a report row (`cert_N_active`, `cert_N_last_rotated`).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct CertSlot {
    /// `cert_N_active`.
    pub active: Cell<bool>,
    /// `cert_N_last_rotated`: the certificate's upload date; `N/A` when the slot is empty.
    pub last_rotated: Cell<Timestamp>,
}

impl ReportRow {
    /// True only when the row says for sure that the user held no access key when the report
    /// was generated: both `access_key_N_active` are `false` and both
    /// `access_key_N_last_rotated` are `N/A`. A missing or unreadable cell counts as "may".
    pub fn shows_no_access_key(&self) -> bool {
        self.keys
            .iter()
            .all(|k| k.active == Cell::Value(false) && k.last_rotated == Cell::NotApplicable)
    }

    /// False only when the row says for sure that the user holds no signing certificate:
    /// every `cert_N_active` is `false` and every `cert_N_last_rotated` is `N/A`. A missing or
    /// unreadable cell counts as "may have one".
    pub fn may_have_certificates(&self) -> bool {
        !self
            .certs
            .iter()
            .all(|c| c.active == Cell::Value(false) && c.last_rotated == Cell::NotApplicable)
    }
}

impl ReportRow {
    /// What in this row cannot be true at `now` (UTC), in words, empty when nothing: the user
    /// or a key created after `now`, a key last used before it was created or after `now`.
    /// Times within [`CLOCK_SLACK`] of each other are not told apart. Source:
    /// `user_creation_time`, `access_key_N_last_rotated`, `access_key_N_last_used_date`.
    pub fn impossibilities(&self, now: Timestamp) -> Vec<String> {
        let mut out = Vec::new();
        let later = |a: &Timestamp, b: &Timestamp| *a > *b + CLOCK_SLACK;
        if let Some(created) = self.user_creation_time.value().filter(|c| later(c, &now)) {
            out.push(format!("user created in the future ({})", created.to_rfc3339()));
        }
        for (n, slot) in (1..).zip(&self.keys) {
            let created = slot.last_rotated.value();
            if let Some(c) = created.filter(|c| later(c, &now)) {
                out.push(format!("key {n} created in the future ({})", c.to_rfc3339()));
            }
            let Some(used) = slot.last_used_date.value() else {
                continue;
            };
            if let Some(c) = created.filter(|c| later(c, used)) {
                out.push(format!(
                    "key {n} last used ({}) before it was created ({})",
                    used.to_rfc3339(),
                    c.to_rfc3339()
                ));
            }
            if later(used, &now) {
                out.push(format!("key {n} last used in the future ({})", used.to_rfc3339()));
            }
        }
        out
    }
}

/// A cell that should have held a date or a boolean and held something else.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CellError {
    /// 1-based data row (the header is row 0).
    pub row: usize,
    /// Column name.
    pub column: String,
    /// What the cell held.
    pub value: String,
}

impl std::fmt::Display for CellError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "credential report row {} column {}: unreadable value '{}'",
            self.row, self.column, self.value
        )
    }
}

/// A parsed credential report.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct CredentialReport {
    /// The IAM users' rows, in report order.
    pub users: Vec<ReportRow>,
    /// The `<root_account>` row (the last one, if several); `None` when absent (moto omits
    /// it).
    pub root: Option<ReportRow>,
    /// User names (or [`ROOT_USER`]) that have more than one row, each once, in the order
    /// their second row came. Such rows cannot all be true: readers should trust none of
    /// them.
    pub duplicates: Vec<String>,
    /// Cells that could not be read; their fields are [`Cell::Unknown`].
    pub cell_errors: Vec<CellError>,
    /// When AWS generated it (`GetCredentialReport.GeneratedTime`, UTC); `None` when parsed
    /// from text alone.
    pub generated: Option<Timestamp>,
    /// True when this fetch made AWS generate the report: the first
    /// `GenerateCredentialReport` answered `STARTED` (AWS answers `COMPLETE` when it reuses a
    /// report up to 4 hours old). Such a report was built after the fetch began, so it lists
    /// every access key that existed then. False when parsed from text alone.
    pub fresh: bool,
}

/// The report could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    /// The content is not CSV (or not UTF-8).
    #[error("credential report is not readable CSV")]
    Csv(#[source] csv::Error),
    /// A column every report has is missing.
    #[error("credential report has no '{0}' column")]
    MissingColumn(&'static str),
}

fn sentinel<T>(raw: &str) -> Option<Cell<T>> {
    match raw.trim() {
        "" | "N/A" => Some(Cell::NotApplicable),
        "no_information" => Some(Cell::NoInformation),
        "not_supported" => Some(Cell::NotSupported),
        _ => None,
    }
}

fn parse_date(raw: &str) -> Option<Timestamp> {
    DateTime::parse_from_rfc3339(raw.trim())
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

fn parse_bool(raw: &str) -> Option<bool> {
    let raw = raw.trim();
    if raw.eq_ignore_ascii_case("true") {
        Some(true)
    } else if raw.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

struct RowReader<'a> {
    headers: &'a csv::StringRecord,
    record: &'a csv::StringRecord,
    row: usize,
    errors: &'a mut Vec<CellError>,
}

impl RowReader<'_> {
    fn raw(&self, column: &str) -> Option<&str> {
        let i = self.headers.iter().position(|h| h.trim() == column)?;
        self.record.get(i)
    }

    fn error(&mut self, column: &str, value: &str) {
        self.errors.push(CellError {
            row: self.row,
            column: column.to_owned(),
            value: value.to_owned(),
        });
    }

    fn text(&self, column: &str) -> Cell<String> {
        match self.raw(column) {
            None => Cell::Unknown,
            Some(raw) => sentinel(raw).unwrap_or_else(|| Cell::Value(raw.trim().to_owned())),
        }
    }

    /// A cell read by `parse`: a sentinel, the parsed value, or (unreadable) an entry in
    /// `cell_errors` and [`Cell::Unknown`].
    fn parsed<T>(&mut self, column: &str, parse: fn(&str) -> Option<T>) -> Cell<T> {
        let Some(raw) = self.raw(column).map(str::to_owned) else {
            return Cell::Unknown;
        };
        if let Some(s) = sentinel(&raw) {
            return s;
        }
        parse(&raw).map(Cell::Value).unwrap_or_else(|| {
            self.error(column, &raw);
            Cell::Unknown
        })
    }

    fn date(&mut self, column: &str) -> Cell<Timestamp> {
        self.parsed(column, parse_date)
    }

    fn boolean(&mut self, column: &str) -> Cell<bool> {
        self.parsed(column, parse_bool)
    }

    fn cert_slot(&mut self, n: u8) -> CertSlot {
        CertSlot {
            active: self.boolean(&format!("cert_{n}_active")),
            last_rotated: self.date(&format!("cert_{n}_last_rotated")),
        }
    }

    fn key_slot(&mut self, n: u8) -> KeySlot {
        KeySlot {
            active: self.boolean(&format!("access_key_{n}_active")),
            last_rotated: self.date(&format!("access_key_{n}_last_rotated")),
            last_used_date: self.date(&format!("access_key_{n}_last_used_date")),
            last_used_region: self.text(&format!("access_key_{n}_last_used_region")),
            last_used_service: self.text(&format!("access_key_{n}_last_used_service")),
        }
    }
}

/// Parses the report's CSV content (`GetCredentialReport.Content`, already base64-decoded).
///
/// # Errors
/// [`ParseError`] when the bytes are not CSV or the `user`/`arn` columns are missing. Unreadable
/// cells do not fail the parse; they are listed in `cell_errors`.
pub fn parse(content: &[u8]) -> Result<CredentialReport, ParseError> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::None)
        .from_reader(content);
    let headers = reader.headers().map_err(ParseError::Csv)?.clone();
    for required in ["user", "arn"] {
        if !headers.iter().any(|h| h.trim() == required) {
            return Err(ParseError::MissingColumn(required));
        }
    }
    let mut report = CredentialReport::default();
    let mut seen = std::collections::HashSet::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(ParseError::Csv)?;
        let mut r = RowReader {
            headers: &headers,
            record: &record,
            row: i + 1,
            errors: &mut report.cell_errors,
        };
        let row = ReportRow {
            user: r.raw("user").unwrap_or_default().to_owned(),
            arn: r.raw("arn").unwrap_or_default().to_owned(),
            password_enabled: r.boolean("password_enabled"),
            user_creation_time: r.date("user_creation_time"),
            mfa_active: r.boolean("mfa_active"),
            keys: [r.key_slot(1), r.key_slot(2)],
            certs: [r.cert_slot(1), r.cert_slot(2)],
        };
        if !seen.insert(row.user.clone()) && !report.duplicates.contains(&row.user) {
            report.duplicates.push(row.user.clone());
        }
        if row.user == ROOT_USER {
            report.root = Some(row);
        } else {
            report.users.push(row);
        }
    }
    Ok(report)
}

/// How long to wait for AWS to produce the report, and how to poll.
#[derive(Clone, Copy, Debug)]
pub struct Polling {
    /// Give up after this long (a report of a large account takes tens of seconds).
    pub deadline: std::time::Duration,
    /// First pause between polls; doubles up to `max_pause`.
    pub first_pause: std::time::Duration,
    /// Longest pause between polls.
    pub max_pause: std::time::Duration,
}

impl Default for Polling {
    fn default() -> Self {
        Self {
            deadline: std::time::Duration::from_secs(120),
            first_pause: std::time::Duration::from_millis(250),
            max_pause: std::time::Duration::from_secs(4),
        }
    }
}

/// Generates (if needed), waits for and downloads the account's credential report:
/// `GenerateCredentialReport` until `COMPLETE` (with backoff, `LimitExceeded` retried), then
/// `GetCredentialReport` (`ReportInProgress` waited for, `ReportNotPresent`/`ReportExpired`
/// generate again).
///
/// # Errors
/// [`super::Error::CredentialReportTimeout`] at the deadline; [`super::Error::AccessDenied`] when
/// the caller may not generate or read it (callers fall back to per-user calls);
/// [`super::Error::CredentialReportUnreadable`] when the CSV is not a report. Never an empty
/// report in place of a failure.
pub async fn fetch(client: &aws_sdk_iam::Client, polling: Polling) -> Result<CredentialReport, super::Error> {
    use aws_sdk_iam::error::ProvideErrorMetadata;
    use aws_sdk_iam::types::ReportStateType;
    let started = tokio::time::Instant::now();
    let mut pause = polling.first_pause;
    let mut first = true;
    let mut fresh = false;
    let wait = |pause: &mut std::time::Duration| {
        let this = *pause;
        *pause = (*pause * 2).min(polling.max_pause);
        async move {
            if started.elapsed() + this > polling.deadline {
                return Err(super::Error::CredentialReportTimeout(polling.deadline));
            }
            tokio::time::sleep(this).await;
            Ok(())
        }
    };
    loop {
        let answer = client.generate_credential_report().send().await;
        if std::mem::take(&mut first) {
            fresh = matches!(&answer, Ok(out) if out.state() == Some(&ReportStateType::Started));
        }
        match answer {
            Ok(out) if out.state() == Some(&ReportStateType::Complete) => {}
            Ok(_) => {
                wait(&mut pause).await?;
                continue;
            }
            Err(e) if e.code() == Some("LimitExceeded") => {
                wait(&mut pause).await?;
                continue;
            }
            Err(e) => return Err(super::classify("iam:GenerateCredentialReport", e)),
        }
        match client.get_credential_report().send().await {
            Ok(out) => {
                let content = out.content().map(|b| b.as_ref()).unwrap_or_default();
                let mut report = parse(content).map_err(|e| super::Error::CredentialReportUnreadable(e.to_string()))?;
                report.generated = out.generated_time().map(super::to_utc);
                report.fresh = fresh;
                return Ok(report);
            }
            Err(e)
                if matches!(
                    e.code(),
                    Some("ReportInProgress" | "ReportNotPresent" | "ReportExpired")
                ) =>
            {
                wait(&mut pause).await?;
            }
            Err(e) => return Err(super::classify("iam:GetCredentialReport", e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const HEADER: &str = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated";

    fn t(y: i32, m: u32, d: u32) -> Timestamp {
        Utc.with_ymd_and_hms(y, m, d, 10, 0, 0).unwrap()
    }

    #[test]
    fn real_format_with_root_row_and_sentinels() {
        let csv = format!(
            "{HEADER}\n\
<root_account>,arn:aws:iam::111111111111:root,2020-01-01T10:00:00+00:00,not_supported,2026-11-01T10:00:00+00:00,not_supported,not_supported,TRUE,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n\
alice,arn:aws:iam::111111111111:user/alice,2024-01-01T10:00:00+00:00,True,no_information,2024-01-01T10:00:00+00:00,N/A,false,true,2025-01-01T10:00:00+00:00,2026-11-20T10:00:00+00:00,eu-west-1,s3,False,2025-06-01T10:00:00+00:00,N/A,N/A,N/A,false,N/A,false,N/A\n"
        );
        let r = parse(csv.as_bytes()).unwrap();
        let root = r.root.as_ref().unwrap();
        assert_eq!(root.mfa_active, Cell::Value(true));
        assert_eq!(root.password_enabled, Cell::NotSupported);
        assert!(root.keys[0].active == Cell::Value(false) && !root.keys[0].has_key());
        assert_eq!(r.users.len(), 1);
        let a = &r.users[0];
        assert_eq!(a.password_enabled, Cell::Value(true));
        assert_eq!(a.user_creation_time, Cell::Value(t(2024, 1, 1)));
        assert_eq!(a.mfa_active, Cell::Value(false));
        assert_eq!(a.keys[0].active, Cell::Value(true));
        assert_eq!(a.keys[0].last_rotated, Cell::Value(t(2025, 1, 1)));
        assert_eq!(a.keys[0].last_used_date, Cell::Value(t(2026, 11, 20)));
        assert_eq!(a.keys[0].last_used_region, Cell::Value("eu-west-1".into()));
        assert_eq!(a.keys[0].last_used_service, Cell::Value("s3".into()));
        assert_eq!(a.keys[1].active, Cell::Value(false));
        assert_eq!(a.keys[1].last_used_date, Cell::NotApplicable);
        assert!(r.cell_errors.is_empty());
    }

    #[test]
    fn columns_in_another_order_and_unknown_columns() {
        let csv = "mfa_active,some_new_column,arn,user,access_key_1_last_rotated,access_key_1_active\n\
true,x,arn:aws:iam::1:user/b,bob,2025-01-01T10:00:00Z,TRUE\n";
        let r = parse(csv.as_bytes()).unwrap();
        assert!(r.root.is_none());
        let b = &r.users[0];
        assert_eq!(b.user, "bob");
        assert_eq!(
            (&b.mfa_active, &b.keys[0].active),
            (&Cell::Value(true), &Cell::Value(true))
        );
        assert_eq!(b.keys[0].last_rotated, Cell::Value(t(2025, 1, 1)));
        assert_eq!(b.keys[1], KeySlot::default());
        assert_eq!(b.password_enabled, Cell::Unknown, "a missing column cannot say");
    }

    #[test]
    fn quoted_user_name_with_a_comma() {
        let csv = "user,arn,password_enabled\n\"smith, john\",arn:aws:iam::1:user/x,false\n";
        let r = parse(csv.as_bytes()).unwrap();
        assert_eq!(r.users[0].user, "smith, john");
        assert_eq!(r.users[0].password_enabled, Cell::Value(false));
    }

    #[test]
    fn bad_cells_are_reported_not_fatal() {
        let csv = "user,arn,user_creation_time,mfa_active\ncarol,arn:x,yesterday,maybe\n";
        let r = parse(csv.as_bytes()).unwrap();
        assert_eq!(
            (&r.users[0].user_creation_time, &r.users[0].mfa_active),
            (&Cell::Unknown, &Cell::Unknown)
        );
        assert_eq!(
            r.cell_errors
                .iter()
                .map(|e| (e.row, e.column.as_str(), e.value.as_str()))
                .collect::<Vec<_>>(),
            vec![(1, "user_creation_time", "yesterday"), (1, "mfa_active", "maybe")]
        );
    }

    #[test]
    fn missing_user_column_is_an_error() {
        assert!(matches!(
            parse(b"arn,mfa_active\nx,true\n"),
            Err(ParseError::MissingColumn("user"))
        ));
    }

    #[test]
    fn cell_value_and_has_key_say_yes_when_there_is_one() {
        assert_eq!(Cell::Value(7).value(), Some(&7));
        assert_eq!(Cell::<u8>::NoInformation.value(), None);
        let slot = KeySlot {
            last_rotated: Cell::Value(t(2025, 1, 1)),
            ..KeySlot::default()
        };
        assert!(slot.has_key());
        assert!(!KeySlot::default().has_key());
    }

    #[test]
    fn no_information_in_a_last_used_column_is_its_own_sentinel() {
        let csv = "user,arn,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region
dan,arn:x,2025-01-01T10:00:00+00:00,no_information,not_supported
";
        let r = parse(csv.as_bytes()).unwrap();
        let slot = &r.users[0].keys[0];
        assert_eq!(slot.last_used_date, Cell::NoInformation);
        assert_eq!(slot.last_used_region, Cell::NotSupported);
        assert!(r.cell_errors.is_empty(), "{:?}", r.cell_errors);
    }

    #[test]
    fn cell_error_names_row_column_and_value() {
        let r = parse(
            b"user,arn,mfa_active
x,arn:x,true
carol,arn:y,maybe
",
        )
        .unwrap();
        assert_eq!(
            r.cell_errors.iter().map(ToString::to_string).collect::<Vec<_>>(),
            ["credential report row 2 column mfa_active: unreadable value 'maybe'"]
        );
    }

    #[test]
    fn users_with_two_rows_are_listed_once_each() {
        let csv = "user,arn,mfa_active
alice,arn:a,true
<root_account>,arn:r,true
bob,arn:b,true
alice,arn:a,false
alice,arn:a,false
<root_account>,arn:r,false
";
        let r = parse(csv.as_bytes()).unwrap();
        assert_eq!(r.duplicates, ["alice", ROOT_USER]);
        assert_eq!(r.users.len(), 4, "every row is kept; the reader decides");
        assert_eq!(r.root.unwrap().mfa_active, Cell::Value(false));
        assert!(
            parse(
                b"user,arn
alice,a
bob,b
"
            )
            .unwrap()
            .duplicates
            .is_empty()
        );
    }

    fn row(created: Timestamp, key: Option<(Timestamp, Option<Timestamp>)>) -> ReportRow {
        let mut r = ReportRow {
            user: "eve".into(),
            user_creation_time: Cell::Value(created),
            ..ReportRow::default()
        };
        if let Some((rotated, used)) = key {
            r.keys[1].last_rotated = Cell::Value(rotated);
            r.keys[1].last_used_date = used.map_or(Cell::NotApplicable, Cell::Value);
        }
        r
    }

    #[test]
    fn impossibilities_of_a_row() {
        let now = t(2026, 11, 29);
        let h = chrono::TimeDelta::hours;
        let d = chrono::TimeDelta::days;
        // Plausible: used after creation, all in the past; and differences within the slack.
        assert!(
            row(now - d(10), Some((now - d(5), Some(now - d(1)))))
                .impossibilities(now)
                .is_empty()
        );
        assert!(
            row(now + h(1), Some((now, Some(now - h(1)))))
                .impossibilities(now)
                .is_empty()
        );
        assert_eq!(
            row(now + d(2), None).impossibilities(now),
            ["user created in the future (2026-12-01T10:00:00+00:00)"]
        );
        assert_eq!(
            row(now - d(10), Some((now + d(1), None))).impossibilities(now),
            ["key 2 created in the future (2026-11-30T10:00:00+00:00)"]
        );
        assert_eq!(
            row(now - d(10), Some((now - d(2), Some(now - d(3))))).impossibilities(now),
            ["key 2 last used (2026-11-26T10:00:00+00:00) before it was created (2026-11-27T10:00:00+00:00)"]
        );
        assert_eq!(
            row(now - d(10), Some((now - d(2), Some(now + d(3))))).impossibilities(now),
            ["key 2 last used in the future (2026-12-02T10:00:00+00:00)"]
        );
    }

    /// The emulator, with dummy credentials, and a client of its management account.
    async fn emulator_client(faults: serde_json::Value) -> (crate::emulator::Emulator, aws_sdk_iam::Client) {
        let scenario = serde_json::json!({
            "organization": false,
            "accounts": [{"name": "solo", "users": [{"name": "ann", "created_days_ago": 10, "keys": [{"age_days": 3}]}]}],
            "faults": faults,
        });
        let emu = crate::emulator::Emulator::start(&scenario.to_string(), std::time::Duration::from_secs(180))
            .unwrap_or_else(|e| panic!("emulator: {e}"));
        let (id, secret) = crate::emulator::DUMMY_CREDENTIALS;
        let ctx = crate::aws::connect(&crate::aws::ConnectOptions {
            endpoint_url: Some(emu.endpoint()),
            isolated_credentials: Some((id.into(), secret.into())),
            max_attempts: 2,
            ..Default::default()
        })
        .await
        .expect("connect to the emulator");
        (emu, aws_sdk_iam::Client::new(&ctx.base))
    }

    fn quick(deadline_s: u64) -> Polling {
        Polling {
            deadline: std::time::Duration::from_secs(deadline_s),
            first_pause: std::time::Duration::from_millis(20),
            max_pause: std::time::Duration::from_millis(100),
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn report_in_progress_not_present_and_expired_are_waited_for() {
        let answer = |status: u16, code: &str| {
            serde_json::json!({"action": "GetCredentialReport", "kind": "error", "status": status,
                               "code": code, "first": 1})
        };
        let (emu, client) = emulator_client(serde_json::json!([
            answer(404, "ReportInProgress"),
            answer(410, "ReportNotPresent"),
            answer(410, "ReportExpired"),
        ]))
        .await;
        let report = fetch(&client, quick(20)).await.expect("the report after three waits");
        assert_eq!(
            report.users.iter().map(|u| u.user.as_str()).collect::<Vec<_>>(),
            ["ann"]
        );
        assert!(report.users[0].keys[0].has_key());
        let stats = emu.stats().unwrap();
        assert_eq!(stats["by_action"]["GetCredentialReport"], 4, "{stats}");
        assert_eq!(stats["faulted"], 3, "{stats}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn access_denied_on_get_fails_at_once() {
        let (emu, client) = emulator_client(serde_json::json!([
            {"action": "GetCredentialReport", "kind": "deny"}
        ]))
        .await;
        let started = std::time::Instant::now();
        let err = fetch(&client, quick(8)).await.expect_err("denied");
        assert!(
            matches!(
                &err,
                super::super::Error::AccessDenied {
                    action: "iam:GetCredentialReport",
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(emu.stats().unwrap()["by_action"]["GetCredentialReport"], 1);
    }

    #[test]
    fn garbage_never_panics() {
        for input in [
            &b""[..],
            b"\xff\xfe\x00",
            b"user\n",
            b"user,arn\n\"unterminated",
            b",,,\n,,,",
        ] {
            let _ = parse(input);
        }
    }
}
