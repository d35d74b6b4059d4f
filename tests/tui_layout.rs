//! Layout on an organization shaped like the demo's (long account names sharing a prefix,
//! the same role in six accounts, a 32-character signing-certificate id, a 22-character user
//! name): at 80×24 every account is told apart in every view and the columns that say what a
//! row is about stay readable; at 200×60 the accounts view's panel takes the room the table
//! does not need.

use chrono::Duration;
use crossterm::event::{KeyCode, KeyEvent};
use keytriage::audit::Policy;
use keytriage::journal::{ActionResult, Entry, Phase};
use keytriage::model::*;
use keytriage::scan::ScanEvent;
use keytriage::tui::app::App;

mod fixture;

use fixture::{account, key, lines as screen, now, open, root_ok, user};

const ACCOUNTS: [(&str, &str); 8] = [
    ("123456789012", "acme-management"),
    ("338553121867", "acme-prod-web"),
    ("533371602119", "acme-prod-payments"),
    ("835430908371", "acme-data-platform"),
    ("617768948099", "acme-dev"),
    ("845516219156", "acme-staging"),
    ("219627456023", "acme-sandbox-hackathon"),
    ("783651376444", "acme-sandbox-research"),
];

const CERT: &str = "rv3sevu43x8deu99tzkv5mavxnx04ngl";

fn role(own: &AccountId, name: &str, age: i64, trusts: &str) -> Role {
    let members = ACCOUNTS.iter().map(|(id, _)| AccountId::parse(id).unwrap()).collect();
    let policy = format!(r#"{{"Statement":[{{"Effect":"Allow","Principal":{trusts},"Action":"sts:AssumeRole"}}]}}"#);
    let trusted = keytriage::aws::roles::trusted_principals(&policy).unwrap();
    Role {
        name: name.into(),
        path: "/".into(),
        arn: format!("arn:aws:iam::{own}:role/{name}"),
        id: format!("AROA{}", name.len()),
        created: now() - Duration::days(age),
        last_used: Some(RoleLastUsed {
            date: now() - Duration::days(1),
            region: Some("eu-central-1".into()),
        }),
        trusted: keytriage::aws::roles::judge(trusted, own, &members),
    }
}

fn app() -> App {
    let mut app = App::new(
        Policy::default(),
        now(),
        "arn:aws:iam::123456789012:user/op".into(),
        true,
    );
    let accounts: Vec<Account> = ACCOUNTS
        .iter()
        .map(|(id, name)| account(id, name, "/", AccountState::Active))
        .collect();
    app.on_scan_event(ScanEvent::Discovered {
        scan_id: 1,
        organization: Some(Organization {
            id: "o-acme".into(),
            management_account_id: accounts[0].id.clone(),
        }),
        accounts: accounts.clone(),
        warnings: vec![],
        missing: vec![],
    });
    for (n, a) in accounts.into_iter().enumerate() {
        let mut users = vec![user(
            "deploy",
            400,
            None,
            None,
            vec![key(
                &format!("AKIADEPLOY{n:010}"),
                KeyStatus::Active,
                300 + n as i64,
                None,
            )],
        )];
        let own = &a.id;
        let mut roles = vec![role(
            own,
            "OrganizationAccountAccessRole",
            0,
            r#"{"AWS":"123456789012"}"#,
        )];
        match a.name.as_str() {
            "acme-management" => {
                users.push(user(
                    "bob.departed",
                    900,
                    Some(Some(200)),
                    None,
                    vec![key("AKIARZPUZDIKEQI35MC5", KeyStatus::Active, 700, None)],
                ));
                users.push(user(
                    "cloudfront-invalidator",
                    300,
                    None,
                    None,
                    vec![key("AKIAU5U2WVRFYJTUBPPK", KeyStatus::Active, 200, None)],
                ));
                roles.push(role(
                    own,
                    "AWSReservedSSO_AdministratorAccess_4f1c2a9b7d3e8f60",
                    800,
                    r#"{"AWS":"123456789012"}"#,
                ));
            }
            "acme-prod-payments" => roles.push(role(own, "vendor-audit", 420, r#"{"AWS":"999988887777"}"#)),
            "acme-sandbox-hackathon" => roles.push(role(own, "hackathon-public-demo", 100, r#""*""#)),
            "acme-data-platform" => {
                let mut kate = user("kate.data", 900, None, None, vec![]);
                kate.credentials.push(Credential {
                    kind: CredentialKind::SigningCertificate,
                    id: CERT.into(),
                    status: CredentialStatus::Active,
                    created: now() - Duration::days(900),
                    expires: Some(now() + Duration::days(20)),
                    service: None,
                });
                users.push(kate);
            }
            _ => {}
        }
        let mut scan = AccountScan::ok(a, root_ok(), users, vec![]);
        scan.roles = Some(roles);
        app.on_scan_event(ScanEvent::AccountDone {
            scan_id: 1,
            scan: Box::new(scan),
        });
    }
    let line = |phase, result| Entry {
        time: now() - Duration::minutes(5),
        action_id: "a1".into(),
        phase,
        operator: "arn:aws:iam::123456789012:user/op".into(),
        account_id: AccountId::parse("123456789012").unwrap(),
        user: "bob.departed".into(),
        access_key_id: Some(AccessKeyId("AKIARZPUZDIKEQI35MC5".into())),
        credential: None,
        action: KeyAction::Deactivate,
        result,
        request_id: (phase == Phase::Outcome).then(|| "3f1c2a9b-7d3e-4f60-9a1b-2c3d4e5f6a7b".into()),
        error_code: None,
        message: None,
        batch_id: None,
    };
    app.store.journal = vec![line(Phase::Intent, None), line(Phase::Outcome, Some(ActionResult::Ok))];
    app.refresh();
    app
}

/// The table's header and body rows (inside the borders), without blank rows.
fn table(lines: &[String]) -> (String, Vec<String>) {
    let body: Vec<String> = lines[3..]
        .iter()
        .take_while(|l| !l.starts_with('└'))
        .map(|l| l.trim_matches('│').to_owned())
        .filter(|l| !l.trim().is_empty())
        .collect();
    (body[0].clone(), body[1..].to_vec())
}

/// The cell of column `title` in `row`: from the title's start to the next column's.
fn cell(header: &str, row: &str, title: &str) -> String {
    let chars: Vec<char> = header.chars().collect();
    let start = header[..header.find(title).unwrap_or_else(|| panic!("no {title} in {header}"))]
        .chars()
        .count();
    let mut end = start + title.chars().count();
    while end < chars.len() && chars[end] != ' ' {
        end += 1;
    }
    while end < chars.len() && chars[end] == ' ' {
        end += 1;
    }
    row.chars()
        .skip(start)
        .take(end - start)
        .collect::<String>()
        .trim()
        .to_owned()
}

#[test]
fn roles_at_80_columns_tell_apart_the_accounts_of_a_role_in_every_account() {
    let mut app = app();
    open(&mut app, "roles");
    let lines = screen(&app, 80, 24);
    insta::assert_snapshot!("roles_80x24", lines.join("\n"));
    let (header, rows) = table(&lines);
    assert!(header.contains("ACCOUNT"), "{lines:#?}");
    let same_role: Vec<&String> = rows
        .iter()
        .filter(|r| r.contains("OrganizationAccountAccessRole"))
        .collect();
    assert_eq!(same_role.len(), 8, "the role whole in every account: {lines:#?}");
    let accounts: std::collections::HashSet<String> = same_role.iter().map(|r| cell(&header, r, "ACCOUNT")).collect();
    assert_eq!(accounts.len(), 8, "{lines:#?}");
    // Both sandboxes whole (the widest name), and a trusted account id is never cut.
    let text = lines.join("\n");
    assert!(
        text.contains("acme-sandbox-hackathon") && text.contains("acme-sandbox-research"),
        "{text}"
    );
    assert!(text.contains("999988887777"), "{text}");
}

#[test]
fn credentials_at_80_columns_cut_the_certificate_id_not_the_user() {
    let mut app = app();
    open(&mut app, "credentials");
    let lines = screen(&app, 80, 24);
    insta::assert_snapshot!("credentials_80x24", lines.join("\n"));
    let (header, rows) = table(&lines);
    assert!(header.contains("ACCOUNT") && header.contains("USER"), "{header}");
    let text = lines.join("\n");
    for whole in [
        "bob.departed",
        "cloudfront-invalidator",
        "acme-management",
        "acme-data-platform",
    ] {
        assert!(text.contains(whole), "{whole} whole: {text}");
    }
    // The certificate id is cut in the middle: its start and end both show.
    let cert = rows.iter().find(|r| r.contains("kate.data")).unwrap();
    let id = cell(&header, cert, "ID");
    assert!(
        id.contains('…') && CERT.starts_with(id.split('…').next().unwrap()),
        "{id}"
    );
    assert!(CERT.ends_with(id.split('…').nth(1).unwrap()), "{id}");
    // Every row is told apart.
    let distinct: std::collections::HashSet<&String> = rows.iter().collect();
    assert_eq!(distinct.len(), rows.len(), "{lines:#?}");
}

#[test]
fn journal_at_80_columns_shows_what_was_acted_on_and_where() {
    let mut app = app();
    open(&mut app, "journal");
    let lines = screen(&app, 80, 24);
    insta::assert_snapshot!("journal_80x24", lines.join("\n"));
    let (header, rows) = table(&lines);
    // The time is in the detail (`i`); ERROR takes the room it leaves.
    for title in ["ACTION", "RESULT", "ACCOUNT", "USER", "CREDENTIAL", "ERROR"] {
        assert!(header.contains(title), "{title}: {header}");
    }
    assert_eq!(rows.len(), 2, "{lines:#?}");
    for r in &rows {
        assert_eq!(cell(&header, r, "CREDENTIAL"), "AKIARZPUZDIKEQI35MC5", "{r}");
        assert_eq!(cell(&header, r, "ACCOUNT"), "acme-management", "{r}");
        assert_eq!(cell(&header, r, "USER"), "bob.departed", "{r}");
    }
}

#[test]
fn findings_at_80_columns_share_the_room_between_account_and_user() {
    let mut app = app();
    open(&mut app, "findings");
    let lines = screen(&app, 80, 24);
    insta::assert_snapshot!("findings_80x24", lines.join("\n"));
    let (header, rows) = table(&lines);
    let text = lines.join("\n");
    // Rule, account and user (a 21-cell role name) share the room evenly: names up to 16
    // cells are whole, longer ones are cut in the middle and still differ.
    assert!(text.contains("acme-management"), "{text}");
    let user = rows.iter().find(|r| r.contains("hackath")).unwrap();
    let (a, u) = (cell(&header, user, "ACCOUNT"), cell(&header, user, "USER"));
    assert!(a.starts_with("acme-sa") && a.ends_with("ackathon"), "{a}");
    assert!(u.starts_with("hackath") && u.ends_with("demo"), "{u}");
    let sandboxes: std::collections::BTreeSet<String> = rows
        .iter()
        .map(|r| cell(&header, r, "ACCOUNT"))
        .filter(|a| a.starts_with("acme-sa"))
        .collect();
    assert_eq!(sandboxes.len(), 2, "{sandboxes:?}");
    let detail_at = header.find("DETAIL").unwrap();
    assert!(header[detail_at..].chars().count() >= 20, "{header}");
}

#[test]
fn the_accounts_panel_takes_the_rows_the_table_does_not_need_at_200x60() {
    let app = app();
    let lines = screen(&app, 200, 60);
    insta::assert_snapshot!("accounts_200x60", lines.join("\n"));
    // The table: its title, header, 8 accounts and the bottom border; then the panel.
    let table_bottom = lines.iter().position(|l| l.starts_with('└')).unwrap();
    let blank = lines[3..table_bottom]
        .iter()
        .filter(|l| l.trim_matches(|c| c == '│' || c == ' ').is_empty())
        .count();
    let panel_bottom = lines.iter().rposition(|l| l.starts_with('└')).unwrap();
    assert!(
        panel_bottom - table_bottom >= 21,
        "the panel grew: {} rows\n{}",
        panel_bottom - table_bottom,
        lines.join("\n")
    );
    assert!(blank <= 26, "{blank} blank rows in the table\n{}", lines.join("\n"));
    // Bars are thicker than one row: a 0–30 bar's row is followed by more of it.
    let label = lines.iter().position(|l| l.contains("   0–30 ")).unwrap();
    assert!(
        lines[label - 1].contains("████") && lines[label + 1].contains("████"),
        "{}",
        lines.join("\n")
    );
    // 80×24 with the demo's table height keeps its table whole.
    let small = screen(&app, 80, 24);
    let (_, rows) = table(&small);
    assert_eq!(rows.len(), 8, "{small:#?}");
}

#[test]
fn findings_rule_ids_are_cut_in_the_middle_and_the_detail_starts_at_once() {
    let mut app = app();
    open(&mut app, "findings");
    let lines = screen(&app, 80, 24);
    let (header, rows) = table(&lines);
    // Every rule cell names one rule only: whole, or its start and end around `…` (the
    // `role-trusts-…` rules stay apart at 80 columns).
    let full: Vec<String> = app.view().table.shown().map(|r| r.cells[1].to_string()).collect();
    let ids: std::collections::BTreeSet<&str> = full.iter().map(String::as_str).collect();
    assert!(
        ids.iter().filter(|id| id.starts_with("role-trusts-")).count() >= 2,
        "{ids:?}"
    );
    for (r, rule) in rows.iter().zip(&full) {
        let shown = cell(&header, r, "RULE");
        let (head, tail) = shown.split_once('…').unwrap_or((&shown, ""));
        let matching: Vec<&&str> = ids
            .iter()
            .filter(|id| id.starts_with(head) && id.ends_with(tail) && id.len() >= head.len() + tail.len())
            .collect();
        assert_eq!(matching, [&rule.as_str()], "{shown} for {rule}: {lines:#?}");
    }
    // The detail reads from its first word (a triage label, when any, follows it).
    for r in &rows {
        let detail = cell(&header, r, "DETAIL");
        assert!(!detail.starts_with("NEW") && !detail.starts_with("open "), "{detail}");
    }
    // At 160 columns every identifier is whole and the detail has the rest.
    let lines = screen(&app, 160, 45);
    insta::assert_snapshot!("findings_160x45", lines.join("\n"));
    let (header, rows) = table(&lines);
    let role = rows
        .iter()
        .find(|r| r.contains("acme-sandbox-hackathon") && r.contains("role-"))
        .unwrap();
    assert_eq!(cell(&header, role, "RULE"), "role-trusts-anyone", "{role}");
    let detail = rows
        .iter()
        .map(|r| cell(&header, r, "DETAIL"))
        .find(|d| d.starts_with("active key is"))
        .unwrap();
    assert!(!detail.contains('…'), "{detail}: {lines:#?}");
}

#[test]
fn a_findings_group_hides_its_rule_and_account_and_shows_the_key() {
    let mut app = app();
    open(&mut app, "findings");
    // `=` groups by rule and account (worst first); Enter opens the biggest group of
    // key-not-rotated findings.
    app.on_key(KeyEvent::from(KeyCode::Char('=')));
    app.refresh();
    let group = app
        .view()
        .table
        .shown()
        .filter(|r| r.cells[0] == "key-not-rotated")
        .max_by_key(|r| r.cells[2].parse::<u32>().unwrap_or(0))
        .map(|r| r.id.clone())
        .expect("a key-not-rotated group");
    app.view_select(&group);
    app.on_key(KeyEvent::from(KeyCode::Enter));
    app.refresh();
    for (w, h) in [(80, 24), (200, 60)] {
        let lines = screen(&app, w, h);
        insta::assert_snapshot!(format!("finding_group_{w}x{h}"), lines.join("\n"));
        let (header, rows) = table(&lines);
        assert!(lines[2].contains("findings · "), "{lines:#?}");
        assert!(!header.contains("RULE") && !header.contains("ACCOUNT"), "{header}");
        assert!(header.contains("ACCESS KEY"), "{header}");
        assert!(rows.iter().any(|r| r.contains("AKIA")), "{lines:#?}");
    }
}

#[test]
fn keys_at_80_columns_keep_account_key_and_status_whole_and_leave_no_blank_room() {
    let mut app = app();
    open(&mut app, "keys");
    let lines = screen(&app, 80, 24);
    insta::assert_snapshot!("keys_80x24", lines.join("\n"));
    let (header, rows) = table(&lines);
    for title in ["ACCOUNT", "USER", "ACCESS KEY", "STATUS", "AGE", "LAST USED"] {
        assert!(header.contains(title), "{title}: {header}");
    }
    for r in &rows {
        assert!(cell(&header, r, "ACCESS KEY").starts_with("AKIA"), "{r}");
        assert_eq!(cell(&header, r, "ACCESS KEY").chars().count(), 20, "{r}");
        assert!(
            ["Active", "Inactive"].contains(&cell(&header, r, "STATUS").as_str()),
            "{r}"
        );
    }
}

#[test]
fn accounts_at_80_columns_show_every_severity_count() {
    let app = app();
    let lines = screen(&app, 80, 24);
    insta::assert_snapshot!("accounts_80x24", lines.join("\n"));
    let (header, rows) = table(&lines);
    for title in ["CRIT", "HIGH", "MED", "LOW"] {
        assert!(header.contains(title), "{title}: {header}");
    }
    // The counts of every account add up to the findings of its row in :findings.
    let mut total = 0;
    for r in &rows {
        for title in ["CRIT", "HIGH", "MED", "LOW"] {
            total += cell(&header, r, title)
                .parse::<usize>()
                .unwrap_or_else(|_| panic!("{title} in {r}"));
        }
    }
    let findings: usize = app.store.accounts.iter().map(|e| e.findings.len()).sum();
    assert_eq!(total, findings, "{lines:#?}");
    // Every account told apart.
    let names: std::collections::HashSet<String> = rows.iter().map(|r| cell(&header, r, "NAME")).collect();
    assert_eq!(names.len(), 8, "{lines:#?}");
}

#[test]
fn finding_groups_at_80_columns_show_every_severity_count() {
    let mut app = app();
    open(&mut app, "findings");
    app.on_key(KeyEvent::from(KeyCode::Char('=')));
    app.refresh();
    // 70 columns: the rule ids and account names do not fit whole beside the counts.
    for w in [70, 80] {
        let lines = screen(&app, w, 24);
        insta::assert_snapshot!(format!("finding_groups_{w}x24"), lines.join("\n"));
        let (header, rows) = table(&lines);
        for title in [" COUNT", "CRIT", "HIGH", "MED", "LOW"] {
            assert!(header.contains(title), "{title}: {header}");
        }
        for r in rows.iter().filter(|r| !r.trim().is_empty()) {
            let n = |t: &str| {
                cell(&header, r, t)
                    .parse::<usize>()
                    .unwrap_or_else(|_| panic!("{t} in {r}"))
            };
            assert_eq!(n(" COUNT"), n("CRIT") + n("HIGH") + n("MED") + n("LOW"), "{r}");
        }
    }
}

#[test]
fn a_filtered_view_takes_the_widths_of_the_rows_it_shows() {
    let mut app = app();
    open(&mut app, "credentials");
    app.on_key(KeyEvent::from(KeyCode::Char('/')));
    for c in "kind:cert".chars() {
        app.on_key(KeyEvent::from(KeyCode::Char(c)));
    }
    app.on_key(KeyEvent::from(KeyCode::Enter));
    app.refresh();
    let lines = screen(&app, 80, 24);
    insta::assert_snapshot!("credentials_filtered_80x24", lines.join("\n"));
    let (header, rows) = table(&lines);
    assert_eq!(rows.len(), 1, "{lines:#?}");
    // STATUS shown and the certificate id wider, now that the long names are not shown.
    assert_eq!(cell(&header, &rows[0], "STATUS"), "Active", "{lines:#?}");
    let id = cell(&header, &rows[0], "ID");
    let (head, tail) = id.split_once('…').unwrap_or((&id, ""));
    assert!(
        CERT.starts_with(head) && CERT.ends_with(tail) && id.chars().count() >= 12,
        "{id}"
    );
    // ACCOUNT as wide as the name shown (not the widest name of all rows).
    let account = header.find("ACCOUNT").unwrap();
    let user = header.find("USER").unwrap();
    assert_eq!(user - account, "acme-data-platform ".len(), "{header}");
}

#[test]
fn a_mark_takes_its_own_cells_and_cuts_no_name() {
    let mut app = app();
    open(&mut app, "keys");
    let before = screen(&app, 80, 24);
    app.on_key(KeyEvent::from(KeyCode::Char(' ')));
    app.refresh();
    let lines = screen(&app, 80, 24);
    insta::assert_snapshot!("keys_marked_80x24", lines.join("\n"));
    let (header, rows) = table(&lines);
    assert!(rows[0].contains('●'), "{lines:#?}");
    // The marked row's names read as in the unmarked rows of the same account and as
    // before the mark (the mark has cells of its own).
    let marked = cell(&header, &rows[0], "ACCOUNT");
    assert_eq!(marked, "acme-management", "{lines:#?}");
    for r in rows.iter().filter(|r| r.contains("acme-management")) {
        assert_eq!(cell(&header, r, "ACCOUNT"), marked, "{r}");
    }
    let (header_before, rows_before) = table(&before);
    assert_eq!(
        cell(&header_before, &rows_before[0], "USER"),
        cell(&header, &rows[0], "USER")
    );
}

#[test]
fn journal_names_the_account_and_its_detail_and_the_except_dialog_too() {
    let mut app = app();
    open(&mut app, "journal");
    let wide = screen(&app, 200, 24);
    let (header, rows) = table(&wide);
    assert_eq!(cell(&header, &rows[0], "ACCOUNT"), "acme-management", "{wide:#?}");
    assert_eq!(cell(&header, &rows[0], "ACCOUNT ID"), "123456789012", "{wide:#?}");
    app.on_key(KeyEvent::from(KeyCode::Char('i')));
    app.refresh();
    let text = screen(&app, 80, 24).join("\n");
    assert!(text.contains("acme-management (123456789012)"), "{text}");
    // The exception dialog of a finding names its account.
    let mut app = self::app();
    open(&mut app, "findings");
    app.on_key(KeyEvent::from(KeyCode::Down));
    app.on_key(KeyEvent::from(KeyCode::Char('e')));
    app.refresh();
    let text = screen(&app, 100, 30).join("\n");
    assert!(text.contains("Except"), "{text}");
    let listed = text
        .lines()
        .find(|l| l.contains(" · ") && l.contains('('))
        .unwrap_or_else(|| panic!("{text}"));
    let named = ACCOUNTS
        .iter()
        .any(|(id, name)| listed.contains(&format!("{name} ({id})")));
    assert!(named, "{listed}");
}

#[test]
fn roles_at_100_columns_cut_the_one_long_role_not_the_titles_and_rules() {
    let mut app = app();
    open(&mut app, "roles");
    let lines = screen(&app, 100, 30);
    insta::assert_snapshot!("roles_100x30", lines.join("\n"));
    let (header, rows) = table(&lines);
    // Titles whole: the long SSO role name of one row gives way.
    for title in ["TRUSTED OUTSIDE", "FINDINGS▼"] {
        assert!(header.contains(title), "{title}: {header}");
    }
    let sso = rows.iter().find(|r| r.contains("AWSReservedSSO")).unwrap();
    let role = cell(&header, sso, "ROLE");
    assert!(role.contains('…') && role.ends_with("8f60"), "{role}");
    // Every row's rule ids stay apart: each cell names its rule.
    for (r, full) in rows.iter().zip(app.view().table.shown()) {
        let rules = full.cells.last().unwrap().to_string();
        let shown = cell(&header, r, "FINDINGS▼");
        if rules == "-" {
            continue;
        }
        let (head, tail) = shown.split_once('…').unwrap_or((&shown, ""));
        assert!(rules.starts_with(head) && rules.ends_with(tail), "{shown} for {rules}");
        assert!(shown == rules || tail.len() >= 3, "{shown} for {rules}: {lines:#?}");
    }
}
