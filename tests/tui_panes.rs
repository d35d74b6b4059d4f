//! The panes around the tables on an organization shaped like the demo's (nine accounts, one
//! denied, one skipped, a three-digit HIGH count beside a one-digit CRIT, a user with six
//! findings of which one belongs to no credential): the header keeps every severity count
//! whole at 80 columns, the user page reaches every finding, a failed account is marked and
//! its error reads whole, and the accounts panel names its charts and draws small counts.

use crossterm::event::{KeyCode, KeyEvent};
use keytriage::audit::Policy;
use keytriage::model::*;
use keytriage::scan::ScanEvent;
use keytriage::tui::app::{App, Mode};
use keytriage::tui::keymap::Action;
use keytriage::tui::table::RowId;
use keytriage::tui::views::ViewKind;

mod fixture;

use fixture::{account, key, lines as screen, now, open, press, root_ok, user};

const WEB: &str = "338553121867";
const RESEARCH: &str = "783651376444";
const DATA: &str = "835430908371";

/// The demo's denial, as long as the real one.
const DENIED: &str = "cannot assume arn:aws:iam::783651376444:role/OrganizationAccountAccessRole (AccessDenied): \
     User: arn:aws:sts::123456789012:user/moto is not authorized to perform: sts:AssumeRole on resource: \
     arn:aws:iam::783651376444:role/OrganizationAccountAccessRole; check that the role exists in the \
     account and trusts the caller";

fn accounts() -> Vec<Account> {
    [
        ("123456789012", "acme-management"),
        (WEB, "acme-prod-web"),
        ("533371602119", "acme-prod-payments"),
        (DATA, "acme-data-platform"),
        ("617768948099", "acme-dev"),
        ("845516219156", "acme-staging"),
        ("219627456023", "acme-sandbox-hackathon"),
        (RESEARCH, "acme-sandbox-research"),
        ("073992092573", "acme-legacy"),
    ]
    .iter()
    .map(|(id, name)| account(id, name, "/", AccountState::Active))
    .collect()
}

/// The scan events of account `a`: users with old keys, many of them in the data platform
/// (HIGH in three digits), the root user's key in the web account (CRIT), frank.contractor
/// with six findings there; research denied, legacy skipped.
fn done(a: Account) -> ScanEvent {
    let scan = match a.name.as_str() {
        "acme-sandbox-research" => AccountScan::not_scanned(
            a,
            ScanStatus::Failed,
            ScanError {
                code: "AccessDenied".into(),
                message: DENIED.into(),
            },
        ),
        "acme-legacy" => AccountScan::not_scanned(
            a,
            ScanStatus::Skipped,
            ScanError {
                code: "AccountNotActive".into(),
                message: "account is SUSPENDED; only ACTIVE accounts are scanned".into(),
            },
        ),
        _ => {
            let n = if a.name == "acme-data-platform" { 120 } else { 3 };
            let mut users: Vec<User> = (0..n)
                .map(|i| {
                    user(
                        &format!("svc-{i}"),
                        400,
                        None,
                        None,
                        vec![key(
                            &format!("AKIA{}{i:06}", &a.id.to_string()[..10]),
                            KeyStatus::Active,
                            300,
                            Some((1, "s3", "eu-west-1")),
                        )],
                    )
                })
                .collect();
            let mut root = root_ok();
            if a.name == "acme-prod-web" {
                users.push(user(
                    "frank.contractor",
                    150,
                    Some(Some(100)),
                    None,
                    vec![key("AKIAU5U2WVRFYFU32G3H", KeyStatus::Active, 140, None)],
                ));
                root.access_keys_present = true;
            }
            AccountScan::ok(a, root, users, vec![])
        }
    };
    ScanEvent::AccountDone {
        scan_id: 1,
        scan: Box::new(scan),
    }
}

/// The organization discovered, with the accounts of `scanned` (by name) reported.
fn app_with(scanned: &[&str], write: bool) -> App {
    let mut app = App::new(
        Policy::default(),
        now(),
        "arn:aws:sts::123456789012:user/moto".into(),
        write,
    );
    let accounts = accounts();
    app.on_scan_event(ScanEvent::Discovered {
        scan_id: 1,
        organization: Some(Organization {
            id: "o-jp5kppus0p".into(),
            management_account_id: accounts[0].id.clone(),
        }),
        accounts: accounts.clone(),
        warnings: vec![],
        missing: vec![],
    });
    for a in accounts {
        if scanned.contains(&a.name.as_str()) {
            app.on_scan_event(done(a));
        }
    }
    app.refresh();
    app
}

fn app() -> App {
    let names: Vec<String> = accounts().into_iter().map(|a| a.name).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    app_with(&names, true)
}

fn id(s: &str) -> AccountId {
    AccountId::parse(s).unwrap()
}

/// Asserts the header's counts line holds every severity count of the store whole.
fn assert_counts_whole(app: &App, line: &str) {
    let [c, h, m, l, _] = app.store.severity_counts;
    let counts = format!("CRIT {c} HIGH {h} MED {m} LOW {l}");
    let at = line
        .find(&counts)
        .unwrap_or_else(|| panic!("'{counts}' whole in '{line}'"));
    let after = line[at + counts.len()..].chars().next();
    assert!(matches!(after, None | Some(' ')), "LOW {l} cut: '{line}'");
}

#[test]
fn the_header_keeps_every_count_whole_at_80_columns_while_scanning_with_marks_and_a_filter() {
    // During the scan: progress, a denial, a skip and HIGH in three digits.
    let mut scanning = app_with(
        &[
            "acme-sandbox-research",
            "acme-legacy",
            "acme-data-platform",
            "acme-prod-web",
            "acme-dev",
            "acme-staging",
            "acme-management",
        ],
        true,
    );
    let [c, h, ..] = scanning.store.severity_counts;
    assert!(
        c > 0 && h >= 100,
        "the demo's shape: {:?}",
        scanning.store.severity_counts
    );
    let lines = screen(&scanning, 80, 24);
    assert!(lines[1].contains("scanning 7/9"), "{}", lines[1]);
    assert!(lines[1].contains("1 denied"), "a failure stays: {}", lines[1]);
    assert_counts_whole(&scanning, &lines[1]);
    // Read-only (a wider badge) and after the scan.
    let mut full = app();
    full.write_mode = false;
    let lines = screen(&full, 80, 24);
    assert!(lines[0].contains("READ-ONLY"), "{}", lines[0]);
    assert_counts_whole(&full, &lines[1]);
    // Two marked keys in :keys: the marks shorten to ●2, the counts stay whole.
    for app in [&mut scanning, &mut full] {
        open(app, "keys");
        press(app, Action::ToggleMark);
        press(app, Action::ToggleMark);
        assert_eq!(app.marks.len(), 2);
        let lines = screen(app, 80, 24);
        assert_counts_whole(app, &lines[1]);
        assert!(
            lines[1].contains("●2") || lines[1].contains("marked 2 keys"),
            "the marks are said: {}",
            lines[1]
        );
        // A filter typed and kept.
        press(app, Action::Filter);
        for ch in "svc".chars() {
            app.on_key(KeyEvent::from(KeyCode::Char(ch)));
        }
        app.on_key(KeyEvent::from(KeyCode::Enter));
        app.refresh();
        let lines = screen(app, 80, 24);
        assert_counts_whole(app, &lines[1]);
    }
    // Wide: everything, the full wording.
    let lines = screen(&full, 160, 45);
    assert!(
        lines[1].contains("findings:") && lines[1].contains("marked 2 keys") && lines[1].contains("1 skipped"),
        "{}",
        lines[1]
    );
    insta::assert_snapshot!("header_marks_80x24", screen(&full, 80, 24)[..2].join("\n"));
}

#[test]
fn every_finding_of_a_user_is_reachable_from_the_user_page_at_80x24() {
    let mut app = app();
    app.view_select(&RowId::Account(id(WEB)));
    press(&mut app, Action::Open);
    app.view_select(&RowId::User(id(WEB), "frank.contractor".into()));
    press(&mut app, Action::Open);
    assert!(matches!(app.view().kind, ViewKind::User(..)));
    let findings: Vec<_> = app
        .store
        .entry(&id(WEB))
        .unwrap()
        .findings
        .iter()
        .filter(|f| f.user == "frank.contractor")
        .collect();
    assert_eq!(findings.len(), 6, "{findings:#?}");
    let stale = findings.iter().find(|f| f.rule.id() == "stale-user").unwrap();
    assert!(stale.access_key_id.is_none() && stale.credential.is_none());
    let lines = screen(&app, 80, 24);
    let text = lines.join("\n");
    insta::assert_snapshot!("user_page_80x24", text);
    // The pane says what it could not hold and where to read it; no finding shows in part.
    let pane = lines.iter().position(|l| l.contains("findings (6)")).unwrap();
    let inside: Vec<&String> = lines[pane + 1..].iter().take_while(|l| !l.starts_with('└')).collect();
    let shown = inside
        .iter()
        .filter(|l| ["│CRIT", "│HIGH", "│MED", "│LOW"].iter().any(|s| l.starts_with(s)))
        .count();
    assert!(shown < 6, "80x24 cannot hold six wrapped findings: {text}");
    let more = format!("+{} more · i shows all 6 in full", 6 - shown);
    assert!(inside.last().unwrap().contains(&more), "'{more}' in {text}");
    // i: the user in full, every finding (the one of no credential too).
    press(&mut app, Action::Details);
    assert_eq!(app.mode, Mode::Detail);
    assert_eq!(app.detail, Some(RowId::User(id(WEB), "frank.contractor".into())));
    let popup = screen(&app, 80, 24).join("\n");
    assert!(
        popup.contains("findings (6)") && popup.contains("stale-user"),
        "{popup}"
    );
    // Tall enough, every finding shows whole and no marker.
    press(&mut app, Action::Back);
    let tall = screen(&app, 80, 40).join("\n");
    assert!(tall.contains("stale-user") && !tall.contains("more · i"), "{tall}");
}

#[test]
fn a_denied_account_is_marked_and_its_error_wraps_whole_over_the_free_rows() {
    let mut app = app();
    app.view_select(&RowId::Account(id(RESEARCH)));
    let lines = screen(&app, 80, 24);
    let text = lines.join("\n");
    insta::assert_snapshot!("accounts_denied_selected_80x24", text);
    let row = lines.iter().find(|l| l.contains("acme-sandbox-research")).unwrap();
    assert!(
        row.starts_with("│✗ "),
        "a failed account is marked (no colour needed): {row}"
    );
    let clean = lines.iter().find(|l| l.contains("acme-prod-payments")).unwrap();
    assert!(!clean.contains('✗'), "{clean}");
    // The whole error, its hint and where to read it in full, below the table.
    let bottom = lines.iter().rposition(|l| l.starts_with('└')).unwrap();
    let status = lines[bottom + 1..lines.len() - 1].join(" ");
    let squeezed: String = status.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(squeezed.contains("trusts the caller [AccessDenied]"), "{squeezed}");
    assert!(squeezed.contains("sts:AssumeRole on resource"), "{squeezed}");
    assert!(squeezed.ends_with("(i shows it in full)"), "{squeezed}");
    assert!(!squeezed.contains('…'), "{squeezed}");
}

#[test]
fn the_accounts_panel_says_scanning_about_an_account_still_being_read() {
    let mut early = app_with(&["acme-data-platform", "acme-prod-web"], true);
    early.on_scan_event(ScanEvent::Progress {
        scan_id: 1,
        account_id: id(RESEARCH),
        phase: ScanPhase::Assuming,
    });
    early.refresh();
    early.view_select(&RowId::Account(id(RESEARCH)));
    let text = screen(&early, 100, 30).join("\n");
    assert!(text.contains("scanning…"), "{text}");
    assert!(!text.contains("unknown: the account was not read"), "{text}");
}

#[test]
fn the_accounts_panel_names_every_chart_at_100x30_and_draws_a_bar_for_every_count() {
    // At 100x30 every chart keeps its name; the account's is cut in the middle.
    let mut app = app();
    app.view_select(&RowId::Account(id(WEB)));
    let lines = screen(&app, 100, 30);
    let text = lines.join("\n");
    insta::assert_snapshot!("accounts_panel_100x30", text);
    let titles = lines.iter().find(|l| l.contains("key age")).unwrap();
    assert_eq!(titles.matches("key age ·").count(), 2, "{titles}");
    assert_eq!(titles.matches("findings ·").count(), 2, "{titles}");
    assert!(titles.contains("org"), "{titles}");
    // The org's CRIT, a few beside HIGH in three digits, draws a bar past its number.
    let [c, h, ..] = app.store.severity_counts;
    assert!(c < 10 && h >= 100);
    let crit = lines
        .iter()
        .find(|l| l.matches("CRIT").count() == 2)
        .unwrap_or_else(|| panic!("{text}"));
    let org = &crit[crit.rfind("CRIT").unwrap()..];
    assert!(org.starts_with(&format!("CRIT {c}█")), "{org}");
}

#[test]
fn the_accounts_panel_stays_at_80x24_once_the_scan_is_recorded() {
    let mut app = app();
    let (org, findings) = app.store.org_scan();
    let outcome = keytriage::triage::triage(&findings, &org.accounts, &[], None, now());
    app.store.set_triage(&findings, outcome);
    app.view_select(&RowId::Account(id(DATA)));
    app.refresh();
    let small = screen(&app, 80, 24);
    let text = small.join("\n");
    assert!(text.contains("key age") && text.contains("findings ·"), "{text}");
    let rows = small.iter().filter(|l| l.contains(" acme-")).count();
    assert_eq!(rows, 9, "the table keeps every account: {text}");
    // Where the strip fits too (taller), it shows.
    let tall = screen(&app, 80, 40).join("\n");
    assert!(tall.contains("changes first recorded scan"), "{tall}");
}

#[test]
fn the_panes_render_at_small_sizes() {
    let mut app = app();
    for (w, h) in [(0, 0), (1, 1), (10, 5), (40, 10), (60, 12), (80, 14), (100, 30)] {
        screen(&app, w, h);
    }
    app.view_select(&RowId::Account(id(WEB)));
    press(&mut app, Action::Open);
    app.view_select(&RowId::User(id(WEB), "frank.contractor".into()));
    press(&mut app, Action::Open);
    for (w, h) in [(1, 1), (10, 5), (20, 12), (40, 16), (80, 14)] {
        screen(&app, w, h);
    }
}
