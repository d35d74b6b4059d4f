//! History in the TUI on the fixture organization: `e` (except a finding until a date) — the dialog,
//! bad input kept, the file read back with its comments, the journal, the totals, and a
//! read-only session.

use crossterm::event::{KeyCode, KeyEvent};
use keytriage::audit::Severity;
use keytriage::journal::{ActionResult, Journal, Phase};
use keytriage::model::KeyAction;
use keytriage::tui::app::{App, Effect, WriteEvent};
use keytriage::tui::keymap::{Action, KEYMAP};
use keytriage::tui::render;
use keytriage::tui::table::RowId;
use keytriage::tui::theme::Theme;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::path::{Path, PathBuf};

mod fixture;

use fixture::{OPERATOR, events, now};

const EXISTING: &str = "# accepted risks — reviewed every month by the security team\n\n\
[[exception]]\nrule = \"inactive-key\"   # kept for the audit\naccount = \"111111111111\"\n\
user = \"bob\"\nreason = \"decommission ticket 42\"\napproved_by = \"carol\"\nexpires = 2027-01-15\n";

fn app(write: bool, path: &Path) -> App {
    let mut app = fixture::app_of(events(), write);
    app.except.path = Some(path.to_path_buf());
    app
}

fn key_for(action: Action) -> KeyEvent {
    let b = KEYMAP.iter().find(|b| b.action == action).expect("action is bound");
    KeyEvent::from(b.keys[0])
}

fn press(app: &mut App, action: Action) -> Option<Effect> {
    let e = app.on_key(key_for(action));
    app.refresh();
    e
}

fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        app.on_key(KeyEvent::from(KeyCode::Char(c)));
    }
    app.refresh();
}

fn screen(app: &App, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| render::draw(app, &Theme { no_color: true }, f)).unwrap();
    t
}

fn text(t: &Terminal<TestBackend>) -> String {
    let buf = t.backend().buffer();
    let mut out = String::new();
    for y in 0..buf.area.height {
        for x in 0..buf.area.width {
            out.push_str(buf[(x, y)].symbol());
        }
        out.push('\n');
    }
    out
}

/// `:findings`, the selection on ci-deploy's `key-not-rotated` (HIGH).
fn on_old_key(app: &mut App) {
    press(app, Action::Command);
    type_text(app, "findings");
    app.on_key(KeyEvent::from(KeyCode::Enter));
    app.refresh();
    app.view_select(&old_key_finding());
}

fn old_key_finding() -> RowId {
    RowId::Finding(
        keytriage::model::AccountId::parse("111111111111").unwrap(),
        "ci-deploy".into(),
        Some(keytriage::model::AccessKeyId("AKIAOLD0000000000001".into())),
        "key-not-rotated",
    )
}

/// Carries out the effect as the loop does (blocking here), and feeds the result back.
fn run_write(app: &mut App, effect: Option<Effect>, journal: &Journal) {
    let Some(Effect::AppendExceptions {
        path,
        entries,
        max_days,
    }) = effect
    else {
        panic!("expected the exceptions to be written, got {effect:?}");
    };
    let result = keytriage::tui::except_flow::write(journal, OPERATOR, &path, entries, max_days, now());
    app.on_write_event(WriteEvent::Excepted(result));
    app.refresh();
}

fn dir() -> (tempfile::TempDir, PathBuf, Journal) {
    let d = tempfile::tempdir().unwrap();
    let path = d.path().join("exceptions.toml");
    let journal = Journal::at(d.path().join("journal.jsonl"));
    (d, path, journal)
}

#[test]
fn the_exception_dialog_names_the_finding_the_file_and_read_only() {
    let mut app = app(false, Path::new("/etc/keytriage/exceptions.toml"));
    on_old_key(&mut app);
    assert_eq!(press(&mut app, Action::Except).map(|_| ()), None);
    type_text(&mut app, "vendor rotates in Q1");
    insta::assert_snapshot!("except_dialog", screen(&app, 80, 24).backend());
    let form = app.except.form().unwrap();
    assert_eq!(form.days, "90");
    assert_eq!(form.approver, OPERATOR, "approver defaults to the caller");
    assert!(form.read_only);
    for (w, h) in [(1, 1), (20, 5), (40, 10)] {
        screen(&app, w, h);
    }
}

#[test]
fn e_appends_the_entry_keeps_comments_and_journals_it_and_the_finding_leaves_the_totals() {
    let (_d, path, journal) = dir();
    std::fs::write(&path, EXISTING).unwrap();
    let mut app = app(true, &path);
    on_old_key(&mut app);
    let high = Severity::ALL.iter().position(|s| *s == Severity::High).unwrap();
    let before = app.store.severity_counts;
    assert_eq!(before[high], 2);
    press(&mut app, Action::Except);
    type_text(&mut app, "vendor rotates in Q1");
    app.on_key(KeyEvent::from(KeyCode::Tab));
    app.on_key(KeyEvent::from(KeyCode::Backspace));
    app.on_key(KeyEvent::from(KeyCode::Backspace));
    type_text(&mut app, "30");
    let effect = app.on_key(KeyEvent::from(KeyCode::Enter));
    run_write(&mut app, effect, &journal);
    assert!(!app.except.is_open());

    // The file: the old text byte for byte, then the new entry.
    let back = std::fs::read_to_string(&path).unwrap();
    assert!(back.starts_with(EXISTING), "{back}");
    assert_eq!(
        &back[EXISTING.len()..],
        "\n[[exception]]\nrule = \"key-not-rotated\"\naccount = \"111111111111\"\nuser = \"ci-deploy\"\n\
         credential_id = \"AKIAOLD0000000000001\"\nreason = \"vendor rotates in Q1\"\n\
         approved_by = \"arn:aws:iam::111111111111:user/operator\"\nexpires = 2026-12-29\n"
    );
    let parsed = keytriage::exceptions::parse(&back, &path, 365, now()).unwrap();
    assert_eq!(parsed.len(), 2);

    // Journaled: intent then outcome ok, action except.
    let lines = journal.read().unwrap();
    assert_eq!(
        lines.iter().map(|l| (l.action, l.phase, l.result)).collect::<Vec<_>>(),
        [
            (KeyAction::Except, Phase::Intent, None),
            (KeyAction::Except, Phase::Outcome, Some(ActionResult::Ok))
        ]
    );
    assert_eq!(lines[0].user, "ci-deploy");

    // Excepted at once: out of the HIGH total, dimmed row with reason, approver, expiry.
    assert_eq!(app.store.severity_counts[high], 1);
    let t = text(&screen(&app, 200, 14));
    assert!(t.contains("HIGH 1"), "{t}");
    let row = app
        .view()
        .table
        .shown()
        .find(|r| r.id == old_key_finding())
        .unwrap()
        .clone();
    assert!(row.dim, "excepted rows are dimmed");
    assert!(
        row.cells[5]
            .ends_with(" · excepted until 2026-12-29 (arn:aws:iam::111111111111:user/operator: vendor rotates in Q1)"),
        "{}",
        row.cells[5]
    );
    assert_eq!(
        app.except.exceptions.len(),
        1,
        "the next recorded scan is triaged with it"
    );
    // With its real line in the file (a stale-exception warning said "line 0").
    assert_eq!(app.except.exceptions[0].line, 11);
    assert_eq!(app.except.exceptions[0].line, parsed[1].line);
    assert!(
        app.flash
            .as_ref()
            .unwrap()
            .text
            .starts_with("excepted 1 finding until 2026-12-29")
    );
}

#[test]
fn read_only_sessions_except_too() {
    let (_d, path, journal) = dir();
    let mut app = app(false, &path);
    on_old_key(&mut app);
    press(&mut app, Action::Except);
    type_text(&mut app, "accepted");
    let effect = app.on_key(KeyEvent::from(KeyCode::Enter));
    run_write(&mut app, effect, &journal);
    let back = keytriage::exceptions::parse(&std::fs::read_to_string(&path).unwrap(), &path, 365, now()).unwrap();
    assert_eq!(back.len(), 1);
    assert_eq!(back[0].expires.to_string(), "2027-02-27", "90 days by default");
}

#[test]
fn bad_input_is_refused_with_a_message_and_nothing_typed_is_lost() {
    let (_d, path, journal) = dir();
    let mut app = app(true, &path);
    app.except.max_days = 60;
    on_old_key(&mut app);
    press(&mut app, Action::Except);
    assert_eq!(
        app.except.form().unwrap().days,
        "60",
        "the default never exceeds the cap"
    );
    let enter = |app: &mut App| app.on_key(KeyEvent::from(KeyCode::Enter));
    assert!(enter(&mut app).is_none());
    let error = |app: &App| app.except.form().unwrap().error.clone().unwrap();
    assert_eq!(error(&app), "a reason is required: say why this risk is accepted");
    type_text(&mut app, "why");
    app.on_key(KeyEvent::from(KeyCode::Tab));
    for bad in ["0", "61", "x"] {
        app.on_key(KeyEvent::new(
            KeyCode::Char('u'),
            crossterm::event::KeyModifiers::CONTROL,
        ));
        type_text(&mut app, bad);
        assert!(enter(&mut app).is_none());
        assert_eq!(
            error(&app),
            format!("days must be a whole number from 1 to 60 (the longest an exception may run), not '{bad}'")
        );
    }
    assert_eq!(app.except.form().unwrap().reason, "why");
    assert!(!path.exists(), "nothing written");

    // A malformed existing file: refused with file, line and column, left as it was, and the
    // dialog keeps what was typed.
    let broken = "# ours\n[[exception]]\nrule = \"no-such-rule\"\n";
    std::fs::write(&path, broken).unwrap();
    app.on_key(KeyEvent::new(
        KeyCode::Char('u'),
        crossterm::event::KeyModifiers::CONTROL,
    ));
    type_text(&mut app, "30");
    let effect = enter(&mut app);
    run_write(&mut app, effect, &journal);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), broken);
    let e = error(&app);
    assert!(
        e.starts_with(&format!("exceptions file {}: ", path.display())) && e.contains("line 3"),
        "{e}"
    );
    assert!(e.ends_with("; nothing was appended"), "{e}");
    let form = app.except.form().unwrap();
    assert_eq!(
        (form.reason.as_str(), form.days.as_str(), form.writing),
        ("why", "30", false)
    );
    let high = Severity::ALL.iter().position(|s| *s == Severity::High).unwrap();
    assert_eq!(app.store.severity_counts[high], 2, "still counted");

    // An unwritable place: said, nothing lost.
    app.except.path = Some(PathBuf::from("/proc/keytriage-cannot-write/exceptions.toml"));
    let effect = enter(&mut app);
    run_write(&mut app, effect, &journal);
    assert!(
        error(&app).contains("cannot write exceptions file /proc/"),
        "{}",
        error(&app)
    );
    // Esc closes without writing.
    app.on_key(KeyEvent::from(KeyCode::Esc));
    assert!(!app.except.is_open());
}

#[test]
fn marked_findings_are_excepted_together() {
    let (_d, path, journal) = dir();
    let mut app = app(true, &path);
    on_old_key(&mut app);
    press(&mut app, Action::ToggleMark);
    let alice = RowId::Finding(
        keytriage::model::AccountId::parse("111111111111").unwrap(),
        "alice".into(),
        None,
        "console-without-mfa",
    );
    app.view_select(&alice);
    press(&mut app, Action::ToggleMark);
    press(&mut app, Action::Except);
    assert_eq!(app.except.form().unwrap().targets.len(), 2);
    type_text(&mut app, "pen test window");
    let effect = app.on_key(KeyEvent::from(KeyCode::Enter));
    run_write(&mut app, effect, &journal);
    let high = Severity::ALL.iter().position(|s| *s == Severity::High).unwrap();
    assert_eq!(app.store.severity_counts[high], 0);
    assert!(app.marks.is_empty(), "excepted findings are unmarked");
    let back = keytriage::exceptions::parse(&std::fs::read_to_string(&path).unwrap(), &path, 365, now()).unwrap();
    assert_eq!(back.len(), 2);
    let lines = journal.read().unwrap();
    assert_eq!(lines.len(), 4);
    assert!(lines[0].batch_id.is_some() && lines[0].batch_id == lines[3].batch_id);
}

#[test]
fn e_off_a_finding_says_where_it_works() {
    let (_d, path, _) = dir();
    // In the accounts view `e` has no binding: the footer says where it works.
    let mut app = app(true, &path);
    app.on_key(key_for(Action::Except));
    assert_eq!(
        app.flash.as_ref().unwrap().text,
        "e: nothing to do here (except the finding (or the marked ones) until a date works on findings: :findings or :changes)"
    );
    assert!(!app.except.is_open());
}

/// The fixture triaged against a previous scan in which ci-deploy's old key was already
/// found (open since) and a finding of another user was resolved since.
fn with_history(app: &mut App, scans: usize) {
    use keytriage::triage::{FindingId, Previous, Recorded};
    let (org, findings) = app.store.org_scan();
    let before = now() - chrono::Duration::days(7);
    let old = findings
        .iter()
        .find(|f| {
            f.access_key_id
                .as_ref()
                .is_some_and(|k| k.as_str() == "AKIAOLD0000000000001")
        })
        .unwrap();
    let gone = FindingId {
        rule: keytriage::audit::Rule::KeyUnused,
        account_id: keytriage::model::AccountId::parse("111111111111").unwrap(),
        user: "carol".into(),
        access_key_id: Some(keytriage::model::AccessKeyId("AKIACAROL00000000001".into())),
    };
    let previous = Previous {
        generated_at: Some(before),
        findings: vec![
            Recorded {
                id: FindingId::of(old),
                severity: old.severity,
                first_seen: before - chrono::Duration::days(30),
            },
            Recorded {
                id: gone,
                severity: Severity::Medium,
                first_seen: before - chrono::Duration::days(60),
            },
        ],
        resolved: Default::default(),
    };
    let outcome = keytriage::triage::triage(&findings, &org.accounts, &[], Some(&previous), now());
    assert_eq!((outcome.changes.new, outcome.changes.resolved), (4, 1));
    app.store.set_triage(&findings, outcome);
    let prod = keytriage::model::AccountId::parse("111111111111").unwrap();
    let org_series: Vec<u64> = (0..scans as u64).map(|i| 9 + i % 4).collect();
    let mut trend = keytriage::history::Trend::default();
    for (i, n) in org_series.iter().enumerate() {
        trend
            .scans
            .push((now() - chrono::Duration::weeks((scans - i) as i64), *n));
    }
    trend
        .by_account
        .insert(prod, org_series.iter().map(|n| n - 4).collect());
    app.trend = Some(trend);
    app.refresh();
}

#[test]
fn the_accounts_panel_shows_new_and_resolved_and_a_sparkline_of_open_findings() {
    let (_d, path, _) = dir();
    let mut app = app(false, &path);
    with_history(&mut app, 12);
    let t = screen(&app, 80, 24);
    insta::assert_snapshot!("accounts_panel_with_history_80x24", t.backend());
    let text = text(&t);
    assert!(
        text.contains("prod-payments      +4 new   -1 resolved ▁▃▅█▁▃▅█▁▃▅█ open 8 (+1) in 5–8"),
        "{text}"
    );
    assert!(
        text.contains("organization       +4 new   -1 resolved ▁▃▅█▁▃▅█▁▃▅█ open 12 (+1) in 9–12"),
        "{text}"
    );
    // One recorded scan: the numbers, and no sparkline yet.
    let mut app2 = app_with_one_scan(&path);
    let text = text_of(&app2, 80, 24);
    assert!(text.contains("trend after 2 recorded scans"), "{text}");
    app2.trend = None;
    for (w, h) in [(60, 22), (80, 12), (1, 1), (0, 0)] {
        screen(&app2, w, h);
    }
}

fn app_with_one_scan(path: &Path) -> App {
    let mut app = app(false, path);
    with_history(&mut app, 1);
    app
}

fn text_of(app: &App, w: u16, h: u16) -> String {
    text(&screen(app, w, h))
}

#[test]
fn an_exception_added_with_e_leaves_the_panel_totals_too() {
    let (_d, path, journal) = dir();
    let mut app = app(true, &path);
    with_history(&mut app, 3);
    on_old_key(&mut app);
    press(&mut app, Action::Except);
    type_text(&mut app, "vendor");
    let effect = app.on_key(KeyEvent::from(KeyCode::Enter));
    run_write(&mut app, effect, &journal);
    assert_eq!(app.store.changes.as_ref().unwrap().0.excepted, 1);
    let sev = keytriage::tui::panel::severities(&app.store.accounts, &app.store.triage);
    assert_eq!(sev[1], 1, "the panel's bars leave the excepted finding out too");
    let high = Severity::ALL.iter().position(|s| *s == Severity::High).unwrap();
    assert_eq!(app.store.severity_counts[high], 1);
}

#[test]
fn a_rescan_keeps_excepted_findings_out_of_the_totals_before_it_is_recorded() {
    // Seen on the demo: right after a rescan, before it was recorded, the header counted the
    // excepted finding again.
    let (_d, path, _) = dir();
    let mut app = app(false, &path);
    let high = Severity::ALL.iter().position(|s| *s == Severity::High).unwrap();
    assert_eq!(app.store.severity_counts[high], 2);
    app.except.exceptions = vec![
        keytriage::exceptions::Exception::new(
            keytriage::audit::Rule::KeyNotRotated,
            keytriage::model::AccountId::parse("111111111111").unwrap(),
            Some("ci-deploy".into()),
            Some("AKIAOLD0000000000001".into()),
            "vendor rotates in Q1".into(),
            "carol".into(),
            chrono::NaiveDate::from_ymd_opt(2027, 1, 15).unwrap(),
        )
        .unwrap(),
    ];
    // The whole scan again (discovery, then every account), not recorded.
    for e in events() {
        app.on_scan_event(e);
    }
    app.refresh();
    assert_eq!(app.store.severity_counts[high], 1);
    assert!(text(&screen(&app, 200, 14)).contains("HIGH 1"));
    // One account rescanned on its own: its excepted finding is neither counted nor taken
    // out twice.
    for e in events()
        .into_iter()
        .filter(|e| matches!(e, keytriage::scan::ScanEvent::AccountDone { .. }))
    {
        app.on_scan_event(e);
    }
    assert_eq!(app.store.severity_counts[high], 1);
    let total: usize = app.store.severity_counts.iter().sum();
    let all: usize = app.store.accounts.iter().map(|e| e.findings.len()).sum();
    assert_eq!(total, all - 1, "every finding but the excepted one is counted once");
}

/// The popup of `id`, as text.
fn popup(app: &App, id: &RowId) -> Option<String> {
    keytriage::tui::detail::build(id, &app.store, &app.policy, app.now, &Theme { no_color: true }).map(|d| d.text())
}

#[test]
fn a_findings_popup_says_its_lifecycle_as_its_row_does() {
    let (_d, path, _) = dir();
    let mut app = app(false, &path);
    // Before a scan is recorded there is no lifecycle: said so, not left out.
    let text = popup(&app, &old_key_finding()).unwrap();
    assert!(text.contains("status     not tracked (no scan recorded yet)"), "{text}");
    with_history(&mut app, 1);
    // Seen by the previous scan, first seen 37 days ago: open, with the date.
    let text = popup(&app, &old_key_finding()).unwrap();
    assert!(
        text.contains("status     open 37 d · first seen 2026-10-23 (37 days ago)"),
        "{text}"
    );
    // A new one says NEW (the same words as its :findings row).
    let new = app
        .store
        .accounts
        .iter()
        .flat_map(|e| &e.findings)
        .find(|f| app.store.triage[&keytriage::triage::FindingId::of(f)].status == keytriage::triage::Status::New)
        .unwrap();
    let id = RowId::Finding(
        new.account_id.clone(),
        new.user.clone(),
        new.access_key_id.clone(),
        new.rule.id(),
    );
    let text = popup(&app, &id).unwrap();
    assert!(
        text.contains("status     NEW · first seen 2026-11-29 (0 days ago)"),
        "{text}"
    );
    // The popup drawn on :findings, `i` on the row.
    on_old_key(&mut app);
    press(&mut app, Action::Details);
    let screen = text_of(&app, 100, 40);
    assert!(
        screen.contains("status     open 37 d · first seen 2026-10-23"),
        "{screen}"
    );
}

fn carol_resolved() -> RowId {
    RowId::Finding(
        keytriage::model::AccountId::parse("111111111111").unwrap(),
        "carol".into(),
        Some(keytriage::model::AccessKeyId("AKIACAROL00000000001".into())),
        "key-unused",
    )
}

#[test]
fn changes_read_resolved_as_good_news_after_the_new_and_i_tells_what_is_known() {
    let (_d, path, _) = dir();
    let mut app = app(false, &path);
    with_history(&mut app, 1);
    press(&mut app, Action::Command);
    type_text(&mut app, "changes");
    app.on_key(KeyEvent::from(KeyCode::Enter));
    app.refresh();
    let t = screen(&app, 200, 30);
    let screen = text(&t);
    let lines: Vec<&str> = screen.lines().collect();
    let resolved = lines
        .iter()
        .position(|l| l.contains("RESOLVED"))
        .expect("a resolved row");
    // Every NEW row above the resolved one (default sort), and the resolved row without a
    // severity marker, with a ✓ and the scan that resolved it in DETAIL.
    let new: Vec<usize> = (0..lines.len()).filter(|&i| lines[i].contains(" NEW ")).collect();
    assert_eq!(new.len(), 4, "{screen}");
    assert!(new.iter().all(|&i| i < resolved), "{screen}");
    let row = lines[resolved];
    assert!(row.contains("✓ RESOLVED"), "{row}");
    assert!(!row.contains('!') && !row.contains('•'), "{row}");
    assert!(row.contains("gone in the scan of 2026-11-29 12:00 UTC"), "{row}");
    // DETAIL of a new row: the finding's text.
    assert!(
        lines.iter().any(|l| l.contains(" NEW ") && l.contains("days")),
        "{screen}"
    );
    // `i` on it: what the history knows, not "gone".
    let text = popup(&app, &carol_resolved()).expect("a popup for a resolved finding");
    for want in [
        "status     resolved by the scan of 2026-11-29 12:00 UTC, after 67 days open",
        "user       carol",
        "key        AKIACAROL00000000001",
        "severity   MED",
        "first seen 2026-09-23 (67 days ago)",
        "last seen  in the scan of 2026-11-22 12:00 UTC",
        "keytriage diff",
    ] {
        assert!(text.contains(want), "{want}\n{text}");
    }
    app.view_select(&carol_resolved());
    press(&mut app, Action::Details);
    let screen = text_of(&app, 100, 30);
    assert!(screen.contains("resolved finding key-unused"), "{screen}");
    assert!(!screen.contains("no longer in the latest scan"), "{screen}");
}
