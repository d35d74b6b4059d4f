//! Property tests of the credential report parser, `aws::credential_report::parse`: it never
//! panics on any bytes; it reads columns by name whatever their order and ignores columns it
//! does not know; every date or boolean cell it cannot read is reported exactly once in
//! `cell_errors`, as (row, column, value), and read as `N/A`.
//!
//! And of the CSV report, `report::write_csv`: whatever the user and account names, no cell a
//! spreadsheet reads starts with a formula character (`=`, `+`, `-`, `@`, TAB, CR), and each
//! cell is the original text, or the original text behind one `'`.

use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};
use keytriage::aws::credential_report::{Cell, CellError, CredentialReport, parse};
use keytriage::model::ROOT_USER;
use proptest::prelude::*;
use proptest::sample::select;

/// AWS's header, as the emulator writes it.
const HEADER: &str = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated";

/// What the parser makes of a column.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Date,
    Bool,
    Text,
    /// A report column the parser does not read (`password_last_used`, `cert_*`…).
    Unread,
}

fn kind(column: &str) -> Kind {
    match column {
        "user_creation_time"
        | "access_key_1_last_rotated"
        | "access_key_1_last_used_date"
        | "access_key_2_last_rotated"
        | "access_key_2_last_used_date"
        | "cert_1_last_rotated"
        | "cert_2_last_rotated" => Kind::Date,
        "password_enabled"
        | "mfa_active"
        | "access_key_1_active"
        | "access_key_2_active"
        | "cert_1_active"
        | "cert_2_active" => Kind::Bool,
        "access_key_1_last_used_region"
        | "access_key_1_last_used_service"
        | "access_key_2_last_used_region"
        | "access_key_2_last_used_service" => Kind::Text,
        _ => Kind::Unread,
    }
}

/// The columns other than `user` and `arn`.
fn report_columns() -> Vec<&'static str> {
    HEADER.split(',').skip(2).collect()
}

/// A cell: what is written, and whether the parser must report it (for date/bool columns).
#[derive(Clone, Debug)]
struct Written {
    text: String,
    bad: bool,
}

fn padded(s: impl Strategy<Value = String>) -> impl Strategy<Value = String> {
    (s, select(vec!["", " ", "  "]), select(vec!["", " "])).prop_map(|(v, l, r)| format!("{l}{v}{r}"))
}

fn sentinel() -> impl Strategy<Value = String> {
    padded(select(vec!["N/A", "no_information", "not_supported", ""]).prop_map(String::from))
}

fn date() -> impl Strategy<Value = String> {
    (0i64..4_000_000_000, -720i32..=720, any::<bool>()).prop_map(|(secs, offset_min, z)| {
        let utc = DateTime::<Utc>::from_timestamp(secs, 0).unwrap_or_default();
        let offset = FixedOffset::east_opt(offset_min * 60).unwrap_or_else(|| FixedOffset::east_opt(0).unwrap());
        utc.with_timezone(&offset).to_rfc3339_opts(SecondsFormat::Secs, z)
    })
}

fn boolean() -> impl Strategy<Value = String> {
    padded(select(vec!["true", "false", "TRUE", "False", "tRuE"]).prop_map(String::from))
}

/// Text that is neither a date, a boolean nor a sentinel, once trimmed.
fn garbage() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z ,;\"\n]{1,12}",
        select(vec![
            "yesterday",
            "2024-01-01",
            "01/02/2024",
            "2024-13-01T00:00:00Z",
            "2024-02-30T00:00:00+00:00",
            "2024-01-01T25:00:00Z",
            "1",
            "yes",
        ])
        .prop_map(String::from),
    ]
    .prop_filter("readable after all", |s| {
        let t = s.trim();
        !t.is_empty() && !t.eq_ignore_ascii_case("true") && !t.eq_ignore_ascii_case("false")
    })
}

fn cell(kind: Kind) -> BoxedStrategy<Written> {
    let good = |s: BoxedStrategy<String>| s.prop_map(|text| Written { text, bad: false }).boxed();
    let bad = garbage().prop_map(|text| Written { text, bad: true }).boxed();
    match kind {
        Kind::Date => prop_oneof![good(padded(date()).boxed()), good(sentinel().boxed()), bad].boxed(),
        Kind::Bool => prop_oneof![good(boolean().boxed()), good(sentinel().boxed()), bad].boxed(),
        Kind::Text | Kind::Unread => {
            prop_oneof![good(sentinel().boxed()), good(garbage().boxed()), good(date().boxed())].boxed()
        }
    }
}

/// A table: its columns (known ones and unknown ones) and rows of cells in column order.
#[derive(Clone, Debug)]
struct Table {
    columns: Vec<String>,
    rows: Vec<Vec<Written>>,
}

impl Table {
    fn csv(&self, keep: impl Fn(&str) -> bool, order: &[usize]) -> Vec<u8> {
        let mut w = csv::Writer::from_writer(Vec::new());
        let picked: Vec<usize> = order.iter().copied().filter(|&i| keep(&self.columns[i])).collect();
        w.write_record(picked.iter().map(|&i| &self.columns[i])).unwrap();
        for row in &self.rows {
            w.write_record(picked.iter().map(|&i| &row[i].text)).unwrap();
        }
        w.into_inner().unwrap()
    }
}

fn is_known(column: &str) -> bool {
    HEADER.split(',').any(|c| c == column)
}

/// `user`, `arn`, a random subset of the report's columns and a few unknown ones, with rows.
fn table() -> impl Strategy<Value = Table> {
    let known = proptest::sample::subsequence(report_columns(), 0..=20);
    let unknown = proptest::collection::vec("[a-z_]{1,10}", 0..4)
        .prop_map(|v| v.into_iter().filter(|c| !is_known(c)).collect::<Vec<_>>());
    (known, unknown, 0usize..6).prop_flat_map(|(known, mut unknown, n_rows)| {
        unknown.sort();
        unknown.dedup();
        let mut columns: Vec<String> = vec!["user".into(), "arn".into()];
        columns.extend(known.iter().map(|c| c.to_string()));
        columns.extend(unknown);
        let row: Vec<BoxedStrategy<Written>> = columns
            .iter()
            .enumerate()
            .map(|(i, c)| match i {
                0 => prop_oneof![
                    4 => "[a-z0-9+=,.@_-]{1,12}".prop_map(|text| Written { text, bad: false }),
                    1 => Just(Written { text: ROOT_USER.into(), bad: false }),
                ]
                .boxed(),
                1 => "arn:aws:iam::[0-9]{12}:user/[a-z]{1,8}"
                    .prop_map(|text| Written { text, bad: false })
                    .boxed(),
                _ => cell(if is_known(c) { kind(c) } else { Kind::Unread }),
            })
            .collect();
        let rows = proptest::collection::vec(row, n_rows);
        (Just(columns), rows).prop_map(|(columns, rows)| Table { columns, rows })
    })
}

fn sorted(mut errors: Vec<CellError>) -> Vec<(usize, String, String)> {
    let mut v: Vec<_> = errors.drain(..).map(|e| (e.row, e.column, e.value)).collect();
    v.sort();
    v
}

fn parse_ok(bytes: &[u8]) -> CredentialReport {
    match parse(bytes) {
        Ok(r) => r,
        Err(e) => panic!("{e}: {}", String::from_utf8_lossy(bytes)),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn any_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = parse(&bytes);
    }

    #[test]
    fn any_bytes_after_a_real_header_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let mut input = format!("{HEADER}\n").into_bytes();
        input.extend(bytes);
        let _ = parse(&input);
    }

    #[test]
    fn any_text_rows_never_panic(text in "[a-zA-Z0-9 ,\"\n:/_+.<>-]{0,300}") {
        let input = format!("{HEADER}\n{text}");
        let _ = parse(input.as_bytes());
    }

    #[test]
    fn order_and_unknown_columns_do_not_matter(
        t in table(),
        order in Just((0..40).collect::<Vec<usize>>()).prop_shuffle(),
    ) {
        let order: Vec<usize> = order.into_iter().filter(|&i| i < t.columns.len()).collect();
        let natural: Vec<usize> = (0..t.columns.len()).collect();
        let shuffled = parse_ok(&t.csv(|_| true, &order));
        let plain = parse_ok(&t.csv(is_known, &natural));
        prop_assert_eq!(shuffled, plain);
    }

    #[test]
    fn each_bad_cell_is_reported_once_and_read_as_unknown(t in table()) {
        let natural: Vec<usize> = (0..t.columns.len()).collect();
        let report = parse_ok(&t.csv(|_| true, &natural));

        let mut want = Vec::new();
        for (r, row) in t.rows.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                let column = &t.columns[c];
                if cell.bad && is_known(column) && matches!(kind(column), Kind::Date | Kind::Bool) {
                    want.push((r + 1, column.clone(), cell.text.clone()));
                }
            }
        }
        want.sort();
        prop_assert_eq!(sorted(report.cell_errors.clone()), want);

        // Each user row, as written: dates, flags and sentinels read; bad cells and missing
        // columns as Unknown (the caller then asks the API), never as N/A.
        let users: Vec<&Vec<Written>> = t.rows.iter().filter(|r| r[0].text != ROOT_USER).collect();
        prop_assert_eq!(report.users.len(), users.len());
        prop_assert_eq!(report.root.is_some(), users.len() < t.rows.len());
        for (row, parsed) in users.iter().zip(&report.users) {
            prop_assert_eq!(&parsed.user, &row[0].text);
            let at = |name: &str| t.columns.iter().position(|c| c == name).map(|i| &row[i]);
            let slot = &parsed.keys[0];
            for (name, got) in [
                ("user_creation_time", &parsed.user_creation_time),
                ("access_key_1_last_rotated", &slot.last_rotated),
                ("access_key_1_last_used_date", &slot.last_used_date),
            ] {
                prop_assert_eq!(got, &expected_date(at(name)), "{}", name);
            }
            prop_assert_eq!(&parsed.mfa_active, &expected_flag(at("mfa_active")));
            prop_assert_eq!(&slot.active, &expected_flag(at("access_key_1_active")));
        }
    }
}

fn expected_sentinel<T>(text: &str) -> Option<Cell<T>> {
    match text {
        "" | "N/A" => Some(Cell::NotApplicable),
        "no_information" => Some(Cell::NoInformation),
        "not_supported" => Some(Cell::NotSupported),
        _ => None,
    }
}

fn expected_date(cell: Option<&Written>) -> Cell<DateTime<Utc>> {
    match cell {
        None => Cell::Unknown,
        Some(w) if w.bad => Cell::Unknown,
        Some(w) => expected_sentinel(w.text.trim())
            .unwrap_or_else(|| Cell::Value(DateTime::parse_from_rfc3339(w.text.trim()).unwrap().with_timezone(&Utc))),
    }
}

fn expected_flag(cell: Option<&Written>) -> Cell<bool> {
    match cell {
        None => Cell::Unknown,
        Some(w) if w.bad => Cell::Unknown,
        Some(w) => expected_sentinel(w.text.trim()).unwrap_or(Cell::Value(w.text.trim().eq_ignore_ascii_case("true"))),
    }
}

fn hostile_text() -> impl Strategy<Value = String> {
    prop_oneof![
        select(vec![
            "=1+2",
            "@SUM(A1)",
            "-cmd",
            "+1",
            "=HYPERLINK(\"http://x\")",
            "\tx",
            "\rx",
            "'=x",
            ""
        ])
        .prop_map(String::from),
        "[=+@\\-\t\r'a ,\"\n]{0,8}",
        any::<String>(),
    ]
}

proptest! {
    #[test]
    fn csv_cells_never_start_a_formula(user in hostile_text(), account_name in hostile_text(), detail in hostile_text()) {
        use keytriage::audit::{Finding, Rule, Severity};
        use keytriage::model::{Account, AccountId, AccountScan, AccountState, RootUser};
        let id = AccountId::parse("222222222222").unwrap();
        let account = Account { id: id.clone(), name: account_name.clone(), email: String::new(),
            state: AccountState::Active, ou_path: "/".into() };
        let root = RootUser { access_keys_present: false, mfa_enabled: true, mfa_kind: None, access_keys: vec![], signing_certificates: vec![] };
        let scan = keytriage::scan::OrgScan { organization: None, accounts: vec![AccountScan::ok(account, root, vec![], vec![])],
            warnings: vec![], missing: vec![] };
        let finding = Finding { rule: Rule::KeyUnused, severity: Severity::Medium, account_id: id, user: user.as_str().into(),
            access_key_id: None, credential: None, detail: detail.clone(), controls: &["CIS 1.12"] };
        let mut out = Vec::new();
        keytriage::report::write_csv(&mut out, &scan, &[finding]).unwrap();
        let mut r = csv::ReaderBuilder::new().has_headers(true).from_reader(out.as_slice());
        let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
        prop_assert_eq!(rows.len(), 1);
        let row = &rows[0];
        for (cell, original) in [(&row[3], &account_name), (&row[4], &user), (&row[6], &detail)] {
            prop_assert!(!cell.starts_with(['=', '+', '-', '@', '\t', '\r']), "{:?}", cell);
            let dangerous = original.starts_with(['=', '+', '-', '@', '\t', '\r']);
            let expected = if dangerous { format!("'{original}") } else { original.clone() };
            prop_assert_eq!(cell, expected.as_str());
        }
    }
}
