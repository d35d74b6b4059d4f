//! What a new user trying the demo found hard to read in the popups and dialogs (issue 10):
//! the detail popup's order, labels and wrapping, a skipped account, critical vs high
//! without colour on the selected row, `:plan` being findable, feedback when a bulk write is
//! cancelled, and counts with the right plural. The app runs on the fixed model of
//! `fixture` with the root user given a signing certificate (a HIGH finding between the
//! two CRIT ones, in the order the rules report them).

use crossterm::event::{KeyCode, KeyEvent};
use keytriage::audit::ROOT_USER;
use keytriage::model::*;
use keytriage::scan::ScanEvent;
use keytriage::tui::app::App;
use keytriage::tui::keymap::Action;
use keytriage::tui::render;
use keytriage::tui::table::RowId;
use keytriage::tui::theme::Theme;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

mod fixture;

use fixture::{events, now, press};

fn prod() -> AccountId {
    AccountId::parse("111111111111").unwrap()
}

/// The fixture's organization; prod-payments' root user also has an active signing
/// certificate, uploaded 1900 days ago.
fn app() -> App {
    let events = events().into_iter().map(|mut e| {
        if let ScanEvent::AccountDone { scan, .. } = &mut e
            && scan.account.id == prod()
            && let Some(root) = scan.root.as_mut()
        {
            root.signing_certificates.push(RootCertificate {
                active: true,
                uploaded: Some(now() - chrono::Duration::days(1900)),
            });
        }
        e
    });
    fixture::app_of(events, true)
}

fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        app.on_key(KeyEvent::from(KeyCode::Char(c)));
    }
    app.refresh();
}

fn screen(app: &App, w: u16, h: u16, theme: Theme) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| render::draw(app, &theme, f)).unwrap();
    t
}

fn rows(app: &App, w: u16, h: u16) -> Vec<String> {
    let t = screen(app, w, h, Theme { no_color: true });
    let buf = t.backend().buffer();
    (0..h)
        .map(|y| (0..w).map(|x| buf[(x, y)].symbol().to_owned()).collect::<String>())
        .collect()
}

/// The text of the popup for `id`, one line per entry.
fn detail(app: &App, id: &RowId) -> String {
    keytriage::tui::detail::build(id, &app.store, &app.policy, app.now, &Theme { no_color: true })
        .unwrap()
        .text()
}

fn flash(app: &App) -> String {
    app.flash.as_ref().map(|f| f.text.clone()).unwrap_or_default()
}

/// The rule ids of the finding lines (`CRIT rule…`, `HIGH rule…`) of `text`, in order.
fn finding_rules(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| ["CRIT ", "HIGH ", "MED  ", "LOW  "].iter().any(|b| l.starts_with(b)))
        .filter(|l| l[5..].starts_with(|c: char| c.is_ascii_lowercase()))
        .filter_map(|l| l[5..].split([':', ' ']).next().map(str::to_owned))
        .collect()
}

#[test]
fn popups_list_findings_worst_first() {
    let app = app();
    let worst_first = ["root-access-key", "root-no-mfa", "root-signing-certificate"];
    // The account's popup (its root section) and the root user's popup.
    assert_eq!(finding_rules(&detail(&app, &RowId::Account(prod()))), worst_first);
    let root = RowId::User(prod(), ROOT_USER.into());
    let text = detail(&app, &root);
    assert_eq!(finding_rules(&text), worst_first, "{text}");
    assert!(text.contains("what to do first (root-access-key)"), "{text}");
}

#[test]
fn the_account_popup_labels_the_whole_accounts_totals_and_the_root_users_findings() {
    let app = app();
    let e = app.store.entry(&prod()).unwrap();
    let total = e.findings.len();
    let root = e.findings.iter().filter(|f| f.user == ROOT_USER).count();
    assert_eq!(root, 3);
    let text = detail(&app, &RowId::Account(prod()));
    assert!(text.contains(&format!("findings, whole account ({total})")), "{text}");
    assert!(
        text.contains(&format!(
            "root user 3 (below) · IAM users and roles {} (Enter lists the users)",
            total - 3
        )),
        "{text}"
    );
    assert!(text.contains("root user's findings (3)"), "{text}");
}

#[test]
fn a_wrapped_finding_continues_under_its_text_whatever_its_severity() {
    let app = app();
    let theme = Theme { no_color: true };
    let d = keytriage::tui::detail::build(&RowId::Account(prod()), &app.store, &app.policy, app.now, &theme).unwrap();
    // At 60 columns the popup is 56 wide: the root-access-key and root-signing-certificate
    // findings wrap.
    let area = ratatui::layout::Rect::new(0, 0, 60, 60);
    let mut buf = ratatui::buffer::Buffer::empty(area);
    keytriage::tui::detail::render(&d, 0, area, &mut buf, &theme);
    let inner: Vec<String> = (0..60)
        .map(|y| (0..60).map(|x| buf[(x, y)].symbol().to_owned()).collect::<String>())
        .filter_map(|r| r.split('│').nth(1).map(str::to_owned))
        .collect();
    let first = inner
        .iter()
        .position(|r| r.starts_with("CRIT root-access-key"))
        .unwrap_or_else(|| panic!("{inner:#?}"));
    let mut badges = 0;
    for (i, r) in inner.iter().enumerate().skip(first) {
        if r.trim().is_empty() {
            break;
        }
        if ["CRIT ", "HIGH ", "MED  ", "LOW  "].iter().any(|b| r.starts_with(b)) {
            badges += 1;
            assert_ne!(&r[5..6], " ", "the text starts at column 5: {r:?}");
        } else {
            assert!(
                r.starts_with("     ") && !r[5..].starts_with(' '),
                "line {i} continues under the text at column 5: {r:?} in {inner:#?}"
            );
        }
    }
    assert_eq!(badges, 3, "{inner:#?}");
    let wrapped = inner.iter().skip(first).take_while(|r| !r.trim().is_empty()).count();
    assert!(wrapped > 4, "the HIGH and a CRIT finding wrapped: {inner:#?}");
}

#[test]
fn a_skipped_account_is_said_to_be_skipped_not_an_error() {
    let app = app();
    let text = detail(&app, &RowId::Account(AccountId::parse("444444444444").unwrap()));
    assert!(!text.contains("scan error"), "{text}");
    assert!(text.contains("skipped (not an error)"), "{text}");
    assert!(
        text.contains("account is SUSPENDED; only ACTIVE accounts are scanned"),
        "{text}"
    );
    assert!(text.contains("nothing to do"), "{text}");
    assert!(!text.contains("unknown: the account was not read"), "{text}");
    // Selected, its status line says "skipped", not in the error style, without the code.
    let mut app = app;
    app.view_select(&RowId::Account(AccountId::parse("444444444444").unwrap()));
    let t = screen(&app, 100, 24, Theme { no_color: false });
    let buf = t.backend().buffer();
    // The status line: the selected account's message, wrapped over the last free rows.
    let row = (0..24)
        .find(|&y| (0..6).map(|x| buf[(x, y)].symbol()).collect::<String>() == "legacy")
        .expect("a line about the selected account");
    let status: String = (0..100).map(|x| buf[(x, row)].symbol().to_owned()).collect();
    assert!(
        status.starts_with("legacy (444444444444): skipped: account is SUSPENDED"),
        "{status}"
    );
    assert!(!status.contains("[AccountNotActive]"), "{status}");
    assert_ne!(buf[(0, row)].fg, ratatui::style::Color::Red, "not an error");
    let text = format!("{}", t.backend());
    assert!(text.contains("│skipped: only"), "the panel says skipped too: {text}");
    assert!(!text.contains("unknown: the account was not read"), "{text}");
    // A denied account still is an error, with what to do.
    let text = detail(&app, &RowId::Account(AccountId::parse("333333333333").unwrap()));
    assert!(text.contains("scan error") && text.contains("what to do"), "{text}");
}

#[test]
fn without_colour_critical_differs_from_high_on_the_selected_row_too() {
    use ratatui::style::Modifier;
    let app = app();
    // The first row, prod-payments (CRIT 2, HIGH 3), is selected (reversed).
    let t = screen(&app, 110, 12, Theme { no_color: true });
    let buf = t.backend().buffer();
    let header: String = (0..110).map(|x| buf[(x, 3)].symbol().to_owned()).collect();
    let row: String = (0..110).map(|x| buf[(x, 4)].symbol().to_owned()).collect();
    assert!(row.contains("prod-payments"), "{row}");
    let col = |title: &str| {
        let start = header.find(title).unwrap_or_else(|| panic!("{title} in {header}"));
        (header[..start].chars().count() + title.chars().count() - 1) as u16
    };
    let (crit, high) = (col("CRIT▼"), col("HIGH"));
    assert_eq!((buf[(crit, 4)].symbol(), buf[(high, 4)].symbol()), ("2", "3"));
    let (c, h) = (buf[(crit, 4)].modifier, buf[(high, 4)].modifier);
    assert!(
        c.contains(Modifier::REVERSED) && h.contains(Modifier::REVERSED),
        "selected"
    );
    assert_ne!(c, h, "CRIT {c:?} and HIGH {h:?} look alike");
    assert!(c.contains(Modifier::UNDERLINED | Modifier::BOLD), "{c:?}");
    assert!(!h.contains(Modifier::UNDERLINED), "{h:?}");
    // The same off the selection: critical underlined, high not.
    let theme = Theme { no_color: true };
    let (crit, high) = (
        theme.severity(keytriage::audit::Severity::Critical),
        theme.severity(keytriage::audit::Severity::High),
    );
    assert!(crit.add_modifier.contains(Modifier::UNDERLINED));
    assert!(!high.add_modifier.contains(Modifier::UNDERLINED));
}

#[test]
fn plan_is_in_help_tab_completion_and_the_unknown_command_list() {
    let mut app = app();
    press(&mut app, Action::Help);
    let help = rows(&app, 200, 60).join("\n");
    assert!(
        help.contains(":plan") && help.contains("deactivate|delete|activate FILE"),
        "{help}"
    );
    press(&mut app, Action::Back);

    press(&mut app, Action::Command);
    type_text(&mut app, "pl");
    assert_eq!(app.completions(), ["plan"]);
    app.on_key(KeyEvent::from(KeyCode::Tab));
    assert_eq!(app.command, "plan ", "Tab completes, then the arguments follow");
    let footer = rows(&app, 80, 24).pop().unwrap();
    assert!(
        footer.contains(":plan █  usage: :plan deactivate|delete|activate FILE"),
        "{footer}"
    );
    app.on_key(KeyEvent::from(KeyCode::Esc));

    press(&mut app, Action::Command);
    type_text(&mut app, "pods");
    app.on_key(KeyEvent::from(KeyCode::Enter));
    let text = flash(&app);
    assert!(text.starts_with("unknown command ':pods' (try :accounts "), "{text}");
    assert!(text.contains(" :keys ") && text.ends_with(" :plan)"), "{text}");
}

/// The app on `:keys` with `n` keys marked (bob's active one first, then ci-deploy's).
fn marked_keys(n: usize) -> App {
    let mut app = app();
    press(&mut app, Action::Command);
    type_text(&mut app, "keys");
    app.on_key(KeyEvent::from(KeyCode::Enter));
    app.refresh();
    let keys = [
        RowId::Key(prod(), "bob".into(), AccessKeyId("AKIABOB0000000000001".into())),
        RowId::Key(prod(), "ci-deploy".into(), AccessKeyId("AKIAOLD0000000000001".into())),
    ];
    for id in &keys[..n] {
        app.view_select(id);
        press(&mut app, Action::ToggleMark);
    }
    app
}

#[test]
fn cancelling_a_bulk_write_says_what_was_not_done() {
    for cancel in [KeyCode::Enter, KeyCode::Esc, KeyCode::Char('n')] {
        let mut app = marked_keys(2);
        press(&mut app, Action::Key(KeyAction::Deactivate));
        assert!(app.bulk.is_open());
        assert!(
            app.on_key(KeyEvent::from(cancel)).is_none(),
            "{cancel:?} starts nothing"
        );
        assert!(!app.bulk.is_open());
        assert_eq!(
            flash(&app),
            "cancelled: did not deactivate 2 access keys; nothing was changed",
            "{cancel:?}"
        );
    }
}

#[test]
fn one_of_anything_is_singular() {
    let mut app = marked_keys(1);
    press(&mut app, Action::Key(KeyAction::Deactivate));
    let screen = rows(&app, 90, 24).join("\n");
    assert!(screen.contains(" Deactivate 1 access key? "), "{screen}");
    assert!(screen.contains("Deactivate 1 access key in 1 account"), "{screen}");
    assert!(screen.contains("prod-payments (111111111111) · 1 key"), "{screen}");
    assert!(
        !screen.contains("1 keys") && !screen.contains("1 access keys"),
        "{screen}"
    );
    app.on_key(KeyEvent::from(KeyCode::Esc));
    assert_eq!(
        flash(&app),
        "cancelled: did not deactivate 1 access key; nothing was changed"
    );
    press(&mut app, Action::ClearMarks);
    assert_eq!(flash(&app), "cleared 1 mark");
    press(&mut app, Action::Filter);
    type_text(&mut app, "AKIAOLD");
    app.on_key(KeyEvent::from(KeyCode::Enter));
    press(&mut app, Action::MarkShown);
    assert_eq!(flash(&app), "marked 1 row shown");
}

/// (worst severity, count) of the rows shown, top to bottom.
fn groups_shown(app: &App) -> Vec<(Option<keytriage::audit::Severity>, i64)> {
    app.view()
        .table
        .shown()
        .map(|r| (r.severity, r.cells[2].parse::<i64>().unwrap()))
        .collect()
}

#[test]
fn grouped_findings_put_the_worst_severity_first_then_the_count() {
    use keytriage::audit::Severity;
    let mut app = app();
    press(&mut app, Action::Command);
    type_text(&mut app, "findings");
    app.on_key(KeyEvent::from(KeyCode::Enter));
    app.refresh();
    for by in ["rule and account", "rule", "account"] {
        press(&mut app, Action::Group);
        let shown = groups_shown(&app);
        assert!(shown.len() > 1 || by == "account", "{by}: {shown:?}");
        // Critical on top (prod-payments' root findings, one each), then down the
        // severities; within one, the biggest group first.
        assert_eq!(shown[0].0, Some(Severity::Critical), "{by}: {shown:?}");
        let mut sorted = shown.clone();
        sorted.sort_by_key(|(s, n)| std::cmp::Reverse((*s, *n)));
        assert_eq!(shown, sorted, "{by}");
    }
    // Sorted by CRIT, descending (its key: worst severity, then the count).
    assert_eq!(app.view().table.sort(), ("CRIT", keytriage::tui::table::Order::Desc));
}

#[test]
fn equals_off_findings_says_where_grouping_works_in_one_phrase() {
    let mut app = app();
    press(&mut app, Action::Group);
    assert_eq!(flash(&app), "=: nothing to do here (group findings works in :findings)");
}

#[test]
fn what_to_do_names_keytriages_key_before_the_console_or_cli() {
    use keytriage::audit::Rule;
    use keytriage::tui::detail::what_to_do;
    // The key that does it, then the alternative.
    for (rule, key) in [
        (Rule::PasswordUnused, "(P:"),
        (Rule::ConsoleWithoutMfa, "(P:"),
        (Rule::InactiveCertificate, "(x)"),
        (Rule::InactiveSshKey, "(x)"),
        (Rule::ServiceCredentialExpired, "(x;"),
        (Rule::CertificateNotRotated, "deactivate (d)"),
        (Rule::SshKeyNotRotated, "deactivate (d)"),
        (Rule::BedrockLongTermKey, "deactivate (d)"),
    ] {
        let text = what_to_do(rule);
        let at = text.find(key).unwrap_or_else(|| panic!("{rule}: no {key} in {text}"));
        let other = ["IAM console", "aws iam"].iter().filter_map(|o| text.find(o)).min();
        assert!(other.is_none_or(|o| o > at), "{rule}: {text}");
    }
}
