//! The TUI on a fixed model and clock: snapshots of every view (rendered with ratatui's
//! TestBackend), key sequences through the real keymap, and sizes down to 0×0.

use crossterm::event::{KeyCode, KeyEvent};
use keytriage::audit::Policy;
use keytriage::aws::remediate::NewKey;
use keytriage::model::*;
use keytriage::remediate::{Done, RemediateError};
use keytriage::scan::ScanEvent;
use keytriage::tui::app::{App, Effect, Mode, WriteEvent};
use keytriage::tui::keymap::{Action, KEYMAP};
use keytriage::tui::render;
use keytriage::tui::table::RowId;
use keytriage::tui::theme::Theme;
use keytriage::tui::views::ViewKind;
use keytriage::tui::write_flow::Step;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::sync::Arc;

mod fixture;

use fixture::{events, key, now};

fn app() -> App {
    fixture::app_of(events(), false)
}

/// The first key bound to `action` in the keymap (never hard-coded in tests).
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

fn selected(app: &App) -> Option<RowId> {
    app.view().table.selected_row().map(|r| r.id.clone())
}

#[test]
fn accounts_view_worst_first() {
    let app = app();
    insta::assert_snapshot!(screen(&app, 110, 12).backend());
}

#[test]
fn accounts_view_at_80x24_and_40x10() {
    let app = app();
    insta::assert_snapshot!("accounts_80x24", screen(&app, 80, 24).backend());
    insta::assert_snapshot!("accounts_40x10", screen(&app, 40, 10).backend());
}

#[test]
fn users_view_of_an_account() {
    let mut app = app();
    press(&mut app, Action::Open);
    assert_eq!(
        app.view().kind,
        ViewKind::Users(Some(AccountId::parse("111111111111").unwrap()))
    );
    insta::assert_snapshot!(screen(&app, 110, 10).backend());
}

#[test]
fn empty_account_and_filter_without_match() {
    let mut app = app();
    app.view_select(&RowId::Account(AccountId::parse("222222222222").unwrap()));
    press(&mut app, Action::Open);
    insta::assert_snapshot!("empty_account", screen(&app, 80, 8).backend());
    press(&mut app, Action::Back);
    press(&mut app, Action::Filter);
    type_text(&mut app, "zzz");
    insta::assert_snapshot!("filter_no_match", screen(&app, 80, 8).backend());
}

#[test]
fn user_detail_view() {
    let mut app = app();
    press(&mut app, Action::Open);
    app.view_select(&RowId::User(AccountId::parse("111111111111").unwrap(), "bob".into()));
    press(&mut app, Action::Open);
    insta::assert_snapshot!(screen(&app, 100, 20).backend());
}

#[test]
fn org_wide_keys_and_findings_views() {
    let mut app = app();
    press(&mut app, Action::Command);
    type_text(&mut app, "ke");
    app.on_key(KeyEvent::from(KeyCode::Tab));
    app.on_key(KeyEvent::from(KeyCode::Enter));
    app.refresh();
    assert_eq!(app.view().kind, ViewKind::Keys);
    insta::assert_snapshot!("keys", screen(&app, 120, 9).backend());
    press(&mut app, Action::Command);
    type_text(&mut app, "findings");
    app.on_key(KeyEvent::from(KeyCode::Enter));
    app.refresh();
    insta::assert_snapshot!("findings", screen(&app, 120, 14).backend());
}

#[test]
fn help_overlay_is_generated_from_the_keymap() {
    let mut app = app();
    press(&mut app, Action::Help);
    assert_eq!(app.mode, Mode::Help);
    let t = screen(&app, 200, 60);
    let text = format!("{}", t.backend());
    for b in keytriage::tui::keymap::active(&app.contexts()) {
        assert!(text.contains(b.help), "help shows '{}'", b.help);
    }
    assert!(!text.contains("deactivate the access key"), "only keys that work here");
    // Every `:` command, views and the others (`:plan`), its text read across the wrap
    // (the table beside the popup is empty that far down).
    let squeeze = |s: &str| {
        s.replace(['│', '"'], " ")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    let read = squeeze(&text);
    for c in keytriage::tui::commands::all() {
        assert!(text.contains(&format!(":{}", c.name)), "help lists :{}", c.name);
        // Read across the wrap where the panel beside the popup leaves it readable, else
        // word by word (the snapshot shows the layout).
        assert!(
            read.contains(&squeeze(c.help)) || c.help.split_whitespace().all(|w| text.contains(w)),
            "help shows '{}'",
            c.help
        );
        assert!(text.contains(c.args), "help shows '{}'", c.args);
    }
    assert!(text.contains(":journal") && text.contains("write actions, newest first"));
    // What the row markers mean.
    assert!(
        text.contains("rows: ‼ CRIT  ! HIGH  • MED  · LOW  ✗ not read  ● marked"),
        "{text}"
    );
    assert!(
        text.contains("Ctrl-c") && text.contains("Ctrl-d"),
        "Ctrl keys come from the keymap"
    );
    assert!(!text.contains("more"), "all of it fits at 200x60: no 'more' hint");
    insta::assert_snapshot!("help_200x60", t.backend());
    // In a user's view, the key actions are listed too.
    let mut app = at_key(true, "ci-deploy", "AKIAOLD0000000000001");
    press(&mut app, Action::Help);
    let text = format!("{}", screen(&app, 200, 60).backend());
    for b in KEYMAP
        .iter()
        .filter(|b| ![Action::Open, Action::Group, Action::Except].contains(&b.action))
    {
        assert!(text.contains(b.help), "user view help shows '{}'", b.help);
    }
}

#[test]
fn help_overlay_fits_80x24_and_scrolls_to_its_end() {
    let mut app = app();
    press(&mut app, Action::Help);
    let first = screen(&app, 80, 24);
    let text = format!("{}", first.backend());
    let rows: Vec<&str> = text.lines().collect();
    // The popup's frame is on screen (top and bottom border), and it says there is more.
    assert!(rows.iter().any(|r| r.contains("┌ help")), "top border shown");
    assert!(
        rows.iter().any(|r| r.contains("└") && r.contains("more")),
        "a 'more' hint on the bottom border"
    );
    assert!(!text.contains("! negates"), "the end is below");
    insta::assert_snapshot!("help_80x24", first.backend());
    // PageDown twice reaches the end: the filter syntax is readable and the hint gone.
    press(&mut app, Action::PageDown);
    press(&mut app, Action::PageDown);
    let end = screen(&app, 80, 24);
    let text = format!("{}", end.backend());
    assert!(text.contains("! negates") && text.contains(":changes"), "{text}");
    assert!(!text.contains("more "), "no 'more' at the end");
    insta::assert_snapshot!("help_80x24_end", end.backend());
    // Up scrolls back one line; the help stays open until Esc.
    press(&mut app, Action::Up);
    assert_eq!(app.mode, Mode::Help);
    assert!(format!("{}", screen(&app, 80, 24).backend()).contains("more"));
    press(&mut app, Action::Back);
    assert_eq!(app.mode, Mode::Normal);
    // Opened again, it starts at the top.
    press(&mut app, Action::Help);
    assert!(format!("{}", screen(&app, 80, 24).backend()).contains("keyboard (what works in this view)"));
}

#[test]
fn drill_down_and_back_keeps_the_selection() {
    let mut app = app();
    let prod = AccountId::parse("111111111111").unwrap();
    assert_eq!(
        selected(&app),
        Some(RowId::Account(prod.clone())),
        "worst account first"
    );
    press(&mut app, Action::Down);
    let second = selected(&app);
    press(&mut app, Action::Up);
    press(&mut app, Action::Open);
    // The root user leads the users (its findings are critical); the next is an IAM user.
    assert_eq!(
        selected(&app),
        Some(RowId::User(prod.clone(), keytriage::audit::ROOT_USER.into()))
    );
    press(&mut app, Action::Down);
    press(&mut app, Action::Open);
    assert!(matches!(app.view().kind, ViewKind::User(..)));
    press(&mut app, Action::Back);
    press(&mut app, Action::Back);
    assert_eq!(app.view().kind, ViewKind::Accounts);
    assert_eq!(selected(&app), Some(RowId::Account(prod)));
    press(&mut app, Action::Back);
    assert_eq!(app.stack.len(), 1, "Esc at the top does nothing");
    press(&mut app, Action::Down);
    assert_eq!(selected(&app), second);
}

#[test]
fn sort_cycles_and_reverses() {
    let mut app = app();
    assert_eq!(app.view().table.sort().0, "CRIT");
    press(&mut app, Action::NextSort);
    assert_eq!(app.view().table.sort().0, "HIGH");
    press(&mut app, Action::PrevSort);
    press(&mut app, Action::PrevSort);
    assert_eq!(app.view().table.sort().0, "NOMFA");
    let before: Vec<String> = app.view().table.shown().map(|r| r.cells[0].to_string()).collect();
    press(&mut app, Action::ReverseSort);
    let after: Vec<String> = app.view().table.shown().map(|r| r.cells[0].to_string()).collect();
    assert_ne!(before, after);
    assert_eq!(after.first().map(String::as_str), Some("empty-sandbox"));
}

#[test]
fn filter_live_then_escape_clears() {
    let mut app = app();
    press(&mut app, Action::Filter);
    type_text(&mut app, "LOCK");
    assert_eq!(app.view().table.counts(), (1, 4));
    app.on_key(KeyEvent::from(KeyCode::Esc));
    app.refresh();
    assert_eq!(app.mode, Mode::Normal);
    assert_eq!(app.view().table.counts(), (4, 4));
}

#[test]
fn unknown_command_says_so() {
    let mut app = app();
    press(&mut app, Action::Command);
    type_text(&mut app, "pods");
    app.on_key(KeyEvent::from(KeyCode::Enter));
    let flash = app.flash.clone().unwrap();
    assert!(flash.error);
    assert_eq!(
        flash.text,
        "unknown command ':pods' (try :accounts :users :keys :findings :journal :changes :credentials :rotations :roles :plan)"
    );
}

#[test]
fn rescan_returns_the_account_and_marks_it_queued() {
    let mut app = app();
    let e = press(&mut app, Action::Rescan);
    let Some(Effect::Rescan(a)) = e else { panic!("{e:?}") };
    assert_eq!(a.name, "prod-payments");
    assert_eq!(app.store.entry(&a.id).unwrap().scan_cell(), "queued");
    assert!(
        press(&mut app, Action::Rescan).is_none(),
        "no second rescan while queued"
    );
}

#[test]
fn finding_enter_jumps_to_the_user_and_key() {
    let mut app = app();
    press(&mut app, Action::Command);
    type_text(&mut app, "findings");
    app.on_key(KeyEvent::from(KeyCode::Enter));
    app.refresh();
    let prod = AccountId::parse("111111111111").unwrap();
    let target = RowId::Finding(
        prod.clone(),
        "ci-deploy".into(),
        Some(AccessKeyId("AKIAOLD0000000000001".into())),
        "key-not-rotated",
    );
    app.view_select(&target);
    press(&mut app, Action::Open);
    assert_eq!(app.view().kind, ViewKind::User(prod.clone(), "ci-deploy".into()));
    assert_eq!(
        selected(&app),
        Some(RowId::Key(
            prod,
            "ci-deploy".into(),
            AccessKeyId("AKIAOLD0000000000001".into())
        ))
    );
}

#[test]
fn stale_scan_events_are_ignored_and_refresh_keeps_selection() {
    let mut app = app();
    press(&mut app, Action::Down);
    let before = selected(&app);
    let mut late = events().remove(2);
    if let ScanEvent::AccountDone { scan_id, .. } = &mut late {
        *scan_id = 0;
    }
    let generation = app.store.generation;
    app.on_scan_event(late);
    assert_eq!(app.store.generation, generation, "old scan's event ignored");
    app.on_scan_event(events().remove(1));
    app.refresh();
    assert_eq!(selected(&app), before);
}

/// The x of the last cell of `title` in row `y` of the buffer (numbers are right-aligned
/// under their title).
fn title_end(buf: &ratatui::buffer::Buffer, y: u16, title: &str) -> u16 {
    let line: String = (0..buf.area.width).map(|x| buf[(x, y)].symbol().to_owned()).collect();
    let start = line.find(title).unwrap_or_else(|| panic!("{title} not in {line:?}"));
    (line[..start].chars().count() + title.chars().count() - 1) as u16
}

#[test]
fn severity_is_a_badge_not_a_row_colour_and_reads_without_colour() {
    use ratatui::style::{Color, Modifier};
    let mut app = app();
    // The selection (reversed) moves off the row under test.
    press(&mut app, Action::Down);
    let mut t = Terminal::new(TestBackend::new(110, 12)).unwrap();
    t.draw(|f| render::draw(&app, &Theme { no_color: false }, f)).unwrap();
    let buf = t.backend().buffer().clone();
    // Row 4 is the first data row: prod-payments, 2 critical and 2 high findings. The row
    // is sorted by CRIT, so its title carries the sort mark.
    let (crit, high) = (title_end(&buf, 3, "CRIT▼"), title_end(&buf, 3, "HIGH"));
    assert_eq!(buf[(crit, 4)].symbol(), "2");
    assert_eq!((buf[(crit, 4)].fg, buf[(crit, 4)].bg), (Color::White, Color::Red));
    assert_eq!((buf[(high, 4)].fg, buf[(high, 4)].bg), (Color::LightRed, Color::Reset));
    // The name is not coloured; the marker is, and says "critical" by its shape.
    assert_eq!(buf[(3, 4)].fg, Color::Reset, "rows are not red");
    assert_eq!(buf[(1, 4)].symbol(), "‼");
    assert_eq!(buf[(1, 4)].bg, Color::Red);
    // A zero count is plain.
    let med = title_end(&buf, 3, "MED");
    assert_eq!((buf[(med, 4)].symbol(), buf[(med, 4)].fg), ("0", Color::Reset));

    // NO_COLOR: no colour anywhere, and critical (reversed, bold) still differs from high
    // (bold only).
    let t = screen(&app, 110, 12);
    let buf = t.backend().buffer();
    assert!(
        buf.content()
            .iter()
            .all(|c| c.fg == Color::Reset && c.bg == Color::Reset)
    );
    let crit_mod = buf[(crit, 4)].modifier;
    let high_mod = buf[(high, 4)].modifier;
    assert!(crit_mod.contains(Modifier::REVERSED | Modifier::BOLD), "{crit_mod:?}");
    assert!(high_mod.contains(Modifier::BOLD) && !high_mod.contains(Modifier::REVERSED));
    assert_eq!(buf[(3, 4)].modifier, Modifier::empty(), "the name is plain");
}

#[test]
fn every_view_renders_at_every_small_size() {
    let mut app = app();
    let views: &[&dyn Fn(&mut App)] = &[
        &|_| {},
        &|a| {
            press(a, Action::Open);
        },
        &|a| {
            press(a, Action::Open);
        },
        &|a| {
            press(a, Action::Help);
        },
    ];
    for go in views {
        go(&mut app);
        for w in 0..=45u16 {
            for h in 0..=12u16 {
                screen(&app, w, h);
            }
        }
    }
}

// ---- write actions: dialogs and their flow ----

fn prod() -> AccountId {
    AccountId::parse("111111111111").unwrap()
}

/// The app in write mode with `user`'s view open and `key` selected.
fn at_key(write: bool, user: &str, key: &str) -> App {
    let mut app = app();
    app.write_mode = write;
    press(&mut app, Action::Open);
    app.view_select(&RowId::User(prod(), user.into()));
    press(&mut app, Action::Open);
    app.view_select(&RowId::Key(prod(), user.into(), AccessKeyId(key.into())));
    app
}

fn write_request(e: Option<Effect>) -> keytriage::remediate::WriteRequest {
    match e {
        Some(Effect::Write(r)) => r,
        other => panic!("expected a write, got {other:?}"),
    }
}

/// Answers the live read `effect` asks for with the key as the store has it (the scripted
/// read: nothing changed since the scan).
fn answer_read(app: &mut App, effect: Option<Effect>) -> Option<Effect> {
    let Some(Effect::ReadKey(request)) = effect else {
        panic!("expected a live read, got {effect:?}")
    };
    let live = app
        .store
        .key(&request.account.id, &request.user, request.key().unwrap())
        .cloned()
        .expect("the key is in the store");
    app.on_write_event(WriteEvent::KeyRead {
        request,
        result: Ok(keytriage::remediate::Live::Key(live)),
    })
}

/// Presses the key of `action`, then answers its live read as the scan saw the key.
fn ask(app: &mut App, action: KeyAction) {
    let e = press(app, Action::Key(action));
    assert!(answer_read(app, e).is_none());
}

#[test]
fn read_only_action_keys_explain_and_do_nothing() {
    for (action, verb) in [
        (Action::Key(KeyAction::Deactivate), "deactivate"),
        (Action::Key(KeyAction::Activate), "activate"),
        (Action::Key(KeyAction::Rotate), "rotate"),
        (Action::Key(KeyAction::Delete), "delete"),
    ] {
        let mut app = at_key(false, "ci-deploy", "AKIAOLD0000000000001");
        assert!(press(&mut app, action).is_none());
        assert!(!app.write.is_open());
        let flash = app.flash.clone().unwrap();
        assert_eq!(
            flash.text,
            format!("read-only: start keytriage with --write to {verb} keys (nothing was changed)")
        );
    }
}

#[test]
fn deactivate_confirm_has_cancel_focused_and_y_confirms() {
    let mut app = at_key(true, "ci-deploy", "AKIAOLD0000000000001");
    ask(&mut app, KeyAction::Deactivate);
    insta::assert_snapshot!("confirm_deactivate", screen(&app, 90, 24).backend());
    assert!(
        app.on_key(KeyEvent::from(KeyCode::Enter)).is_none(),
        "Enter on Cancel cancels"
    );
    assert!(!app.write.is_open());
    ask(&mut app, KeyAction::Deactivate);
    app.on_key(KeyEvent::from(KeyCode::Tab));
    let r = write_request(app.on_key(KeyEvent::from(KeyCode::Enter)));
    assert_eq!(
        (r.action, r.user.as_str(), r.key().unwrap().as_str(), r.status),
        (
            KeyAction::Deactivate,
            "ci-deploy",
            "AKIAOLD0000000000001",
            KeyStatus::Active
        )
    );
    assert!(matches!(app.write.step(), Step::Writing { .. }));
    press(&mut app, Action::Quit);
    assert!(
        matches!(app.write.step(), Step::Writing { .. }),
        "keys wait while AWS answers"
    );
}

#[test]
fn deleting_an_active_key_needs_its_last_four_characters() {
    let mut app = at_key(true, "ci-deploy", "AKIAOLD0000000000001");
    ask(&mut app, KeyAction::Delete);
    assert!(
        app.on_key(KeyEvent::from(KeyCode::Char('y'))).is_none(),
        "y is typed, not a confirmation"
    );
    app.on_key(KeyEvent::from(KeyCode::Backspace));
    type_text(&mut app, "0001");
    insta::assert_snapshot!("confirm_delete_active", screen(&app, 90, 24).backend());
    app.on_key(KeyEvent::from(KeyCode::Tab));
    let r = write_request(app.on_key(KeyEvent::from(KeyCode::Enter)));
    assert_eq!(r.action, KeyAction::Delete);
}

#[test]
fn wrong_last_four_does_not_confirm() {
    let mut app = at_key(true, "ci-deploy", "AKIAOLD0000000000001");
    ask(&mut app, KeyAction::Delete);
    type_text(&mut app, "9999");
    app.on_key(KeyEvent::from(KeyCode::Tab));
    assert!(app.on_key(KeyEvent::from(KeyCode::Enter)).is_none());
    assert!(matches!(app.write.step(), Step::Confirm(_)));
}

#[test]
fn a_write_result_updates_keys_and_findings_without_rescan() {
    let mut app = at_key(true, "ci-deploy", "AKIAOLD0000000000001");
    ask(&mut app, KeyAction::Deactivate);
    let request = write_request(app.on_key(KeyEvent::from(KeyCode::Char('y'))));
    let mut k = key(
        "AKIAOLD0000000000001",
        KeyStatus::Inactive,
        400,
        Some((2, "s3", "eu-west-1")),
    );
    k.status = KeyStatus::Inactive;
    let done = Done {
        keys: Some(vec![k]),
        credentials: None,
        password_enabled: None,
        request_id: Some("req-1".into()),
    };
    assert!(
        app.on_write_event(WriteEvent::Applied {
            request,
            result: Ok(done)
        })
        .is_none()
    );
    assert!(!app.write.is_open());
    assert_eq!(
        app.flash.clone().unwrap().text,
        "deactivated AKIAOLD0000000000001 of ci-deploy in prod-payments (request id req-1)"
    );
    let rules: Vec<&str> = app
        .store
        .entry(&prod())
        .unwrap()
        .findings
        .iter()
        .filter(|f| f.user == "ci-deploy")
        .map(|f| f.rule.id())
        .collect();
    assert_eq!(rules, ["inactive-key"]);
    insta::assert_snapshot!("after_deactivate", screen(&app, 100, 20).backend());
}

#[test]
fn a_failed_write_is_shown_with_its_code() {
    let mut app = at_key(true, "ci-deploy", "AKIAOLD0000000000001");
    ask(&mut app, KeyAction::Deactivate);
    let request = write_request(app.on_key(KeyEvent::from(KeyCode::Char('y'))));
    let error = keytriage::aws::Error::AccessDenied {
        action: "iam:UpdateAccessKey",
        code: "AccessDenied".into(),
        message: "User: x is not authorized".into(),
    };
    app.on_write_event(WriteEvent::Applied {
        request,
        result: Err(RemediateError::Aws {
            error,
            request_id: Some("r-9".into()),
        }),
    });
    insta::assert_snapshot!("write_failed", screen(&app, 90, 20).backend());
    app.on_key(KeyEvent::from(KeyCode::Enter));
    assert!(!app.write.is_open());
}

fn new_key() -> Arc<NewKey> {
    Arc::new(NewKey {
        id: AccessKeyId("AKIANEW0000000000001".into()),
        created: now(),
        secret: secrecy::SecretString::from("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".to_owned()),
        request_id: None,
    })
}

/// The rotation's new key is being verified (the loop was asked to, with the new key): a
/// try fails, then `result` ends the verification.
fn verify(app: &mut App, result: Result<&str, &str>) {
    let Step::Verifying { key, .. } = app.write.step() else {
        panic!("{:?}", app.write)
    };
    let id = key.id.clone();
    app.on_write_event(WriteEvent::VerifyTick(id.clone(), 1, 14));
    let Step::Verifying {
        failed_tries,
        left_secs,
        ..
    } = app.write.step()
    else {
        panic!("{:?}", app.write)
    };
    assert_eq!((*failed_tries, *left_secs), (1, 14));
    app.on_write_event(WriteEvent::Verified(
        id,
        result.map(str::to_owned).map_err(str::to_owned),
    ));
}

// See: issue 12, rotation that verifies.
#[test]
fn rotation_verifies_the_new_key_with_a_countdown_before_the_secret() {
    let mut app = at_key(true, "ci-deploy", "AKIAOLD0000000000001");
    ask(&mut app, KeyAction::Rotate);
    let request = write_request(app.on_key(KeyEvent::from(KeyCode::Char('y'))));
    let effect = app.on_write_event(WriteEvent::Rotated {
        request,
        result: Ok((new_key(), None)),
    });
    let Some(Effect::VerifyKey { account, user, key }) = effect else {
        panic!("{effect:?}")
    };
    assert_eq!(
        (account.id, user.as_str(), key.id.as_str()),
        (prod(), "ci-deploy", "AKIANEW0000000000001")
    );
    drop(key);
    app.on_write_event(WriteEvent::VerifyTick(
        AccessKeyId("AKIANEW0000000000001".into()),
        3,
        11,
    ));
    let text = format!("{}", screen(&app, 100, 24).backend());
    assert!(text.contains("verifying the new key"), "{text}");
    assert!(
        text.contains("not accepted yet (3 tries) · giving up in 11 s"),
        "{text}"
    );
    assert!(
        !text.contains("wJalrXUtnFEMI"),
        "no secret before the verification ends"
    );
    // Keys do nothing while verifying.
    app.on_key(KeyEvent::from(KeyCode::Esc));
    assert!(matches!(app.write.step(), Step::Verifying { .. }));
}

// See: issue 12, rotation that verifies.
#[test]
fn a_new_key_that_failed_verification_never_offers_to_deactivate_the_old_one() {
    let mut app = at_key(true, "ci-deploy", "AKIAOLD0000000000001");
    ask(&mut app, KeyAction::Rotate);
    let request = write_request(app.on_key(KeyEvent::from(KeyCode::Char('y'))));
    app.on_write_event(WriteEvent::Rotated {
        request,
        result: Ok((new_key(), None)),
    });
    let why = "the new access key AKIANEW0000000000001 was not accepted by sts:GetCallerIdentity within 15 s (15 tries; last: InvalidClientTokenId)";
    verify(&mut app, Err(why));
    // The secret is still shown (it exists only once), marked as not verified.
    let text = format!("{}", screen(&app, 100, 26).backend());
    assert!(text.contains("wJalrXUtnFEMI"), "{text}");
    assert!(text.contains("NOT verified"), "{text}");
    app.on_key(KeyEvent::from(KeyCode::Esc));
    let effect = app.on_key(KeyEvent::from(KeyCode::Esc));
    assert!(
        effect.is_none(),
        "no live read of the old key for its deactivation: {effect:?}"
    );
    let Step::Message { title, text, error } = app.write.step() else {
        panic!("{:?}", app.write)
    };
    assert_eq!(title, "Rotate: new key not verified");
    assert!(*error);
    assert!(text.starts_with(why), "{text}");
    assert!(text.contains("The old key AKIAOLD0000000000001 stays active"), "{text}");
    app.on_key(KeyEvent::from(KeyCode::Enter));
    assert!(!app.write.is_open());
}

// See: issue 12, Secrets Manager hand-off.
#[test]
fn the_secret_dialog_hands_off_to_secrets_manager_on_sm_names() {
    use crossterm::event::KeyModifiers;
    let mut app = at_key(true, "ci-deploy", "AKIAOLD0000000000001");
    ask(&mut app, KeyAction::Rotate);
    let request = write_request(app.on_key(KeyEvent::from(KeyCode::Char('y'))));
    app.on_write_event(WriteEvent::Rotated {
        request,
        result: Ok((new_key(), None)),
    });
    verify(&mut app, Ok("arn:aws:iam::111111111111:user/ci-deploy"));
    app.on_key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
    for c in "sm:eu-west-1:prod/ci-deploy".chars() {
        app.on_key(KeyEvent::from(KeyCode::Char(c)));
    }
    let Some(Effect::SaveSecret {
        path,
        account,
        profile,
        key,
    }) = app.on_key(KeyEvent::from(KeyCode::Enter))
    else {
        panic!("{:?}", app.write)
    };
    assert_eq!(
        (path.as_str(), account.id, profile.as_str(), key.id.as_str()),
        (
            "sm:eu-west-1:prod/ci-deploy",
            prod(),
            "ci-deploy",
            "AKIANEW0000000000001"
        )
    );
    drop(key);
    let stored = "Secrets Manager secret prod/ci-deploy (created) arn:aws:secretsmanager:eu-west-1:111111111111:secret:prod/ci-deploy-AbCdEf";
    app.on_write_event(WriteEvent::Saved(Ok(stored.into())));
    let text = format!("{}", screen(&app, 100, 26).backend());
    assert!(
        text.contains("stored: Secrets Manager secret prod/ci-deploy (created)"),
        "{text}"
    );
    assert!(!text.contains("mode 0600)"), "{text}");
}

#[test]
fn rotation_shows_the_secret_once_then_offers_to_deactivate_the_old_key() {
    let mut app = at_key(true, "ci-deploy", "AKIAOLD0000000000001");
    ask(&mut app, KeyAction::Rotate);
    let request = write_request(app.on_key(KeyEvent::from(KeyCode::Char('y'))));
    assert_eq!(request.action, KeyAction::Rotate);
    let keys = vec![
        key(
            "AKIAOLD0000000000001",
            KeyStatus::Active,
            400,
            Some((2, "s3", "eu-west-1")),
        ),
        key("AKIANEW0000000000001", KeyStatus::Active, 0, None),
    ];
    app.on_write_event(WriteEvent::Rotated {
        request,
        result: Ok((new_key(), Some(keys))),
    });
    verify(&mut app, Ok("arn:aws:iam::111111111111:user/ci-deploy"));
    insta::assert_snapshot!("secret_dialog", screen(&app, 90, 24).backend());
    assert_eq!(
        app.store
            .entry(&prod())
            .unwrap()
            .scan
            .as_ref()
            .unwrap()
            .users
            .iter()
            .find(|u| u.name == "ci-deploy")
            .unwrap()
            .access_keys
            .len(),
        2
    );

    // Save: the loop is asked to write the file with the key.
    let Some(Effect::SaveSecret { path, profile, key, .. }) = app.on_key(KeyEvent::from(KeyCode::Enter)) else {
        panic!()
    };
    assert_eq!(
        (path.as_str(), profile.as_str()),
        (
            keytriage::secret_file::default_path_text(
                "ci-deploy",
                &keytriage::model::AccessKeyId("AKIANEW0000000000001".into())
            )
            .as_str(),
            "ci-deploy"
        )
    );
    assert!(
        path.starts_with("~/.local/share/keytriage/credentials/"),
        "the proposed path is in the private data folder, not the working directory: {path}"
    );
    drop(key);
    app.on_write_event(WriteEvent::Saved(Ok(path)));
    let read = app.on_key(KeyEvent::from(KeyCode::Esc));
    assert!(matches!(app.write.step(), Step::Reading { .. }));
    answer_read(&mut app, read);
    let Step::DeactivateOld(c) = app.write.step() else {
        panic!("{:?}", app.write)
    };
    assert_eq!(
        (c.request.action, c.request.key().unwrap().as_str(), c.cancel_label),
        (KeyAction::Deactivate, "AKIAOLD0000000000001", "Later")
    );
    let text = format!("{}", screen(&app, 90, 24).backend());
    assert!(!text.contains("wJalrXUtnFEMI"), "the secret is gone from the screen");
    // "Later" says what stays as it is.
    app.on_key(KeyEvent::from(KeyCode::Esc));
    assert!(!app.write.is_open());
    assert_eq!(
        app.flash.as_ref().map(|f| f.text.as_str()),
        Some("later: AKIAOLD0000000000001 stays active; deactivate it once every application uses the new key")
    );
}

#[test]
fn closing_an_unsaved_secret_takes_two_escapes() {
    let mut app = at_key(true, "ci-deploy", "AKIAOLD0000000000001");
    ask(&mut app, KeyAction::Rotate);
    let request = write_request(app.on_key(KeyEvent::from(KeyCode::Char('y'))));
    app.on_write_event(WriteEvent::Rotated {
        request,
        result: Ok((new_key(), None)),
    });
    verify(&mut app, Ok("arn:aws:iam::111111111111:user/ci-deploy"));
    app.on_key(KeyEvent::from(KeyCode::Esc));
    let Step::ShowSecret(s) = app.write.step() else {
        panic!()
    };
    assert_eq!(
        s.note.as_deref(),
        Some("not saved: press Esc again to close, and the secret is gone for good")
    );
    app.on_key(KeyEvent::from(KeyCode::Esc));
    assert!(!matches!(app.write.step(), Step::ShowSecret(_)));
}

#[test]
fn rotation_on_a_full_user_deletes_the_inactive_key_first_then_continues() {
    let mut app = at_key(true, "bob", "AKIABOB0000000000001");
    ask(&mut app, KeyAction::Rotate);
    let request = write_request(app.on_key(KeyEvent::from(KeyCode::Char('y'))));
    let quota = RemediateError::QuotaFull {
        user: "bob".into(),
        inactive: Some(AccessKeyId("AKIABOB0000000000002".into())),
    };
    let read = app.on_write_event(WriteEvent::Rotated {
        request,
        result: Err(quota),
    });
    answer_read(&mut app, read);
    insta::assert_snapshot!("quota_full_delete_first", screen(&app, 90, 24).backend());
    let delete = write_request(app.on_key(KeyEvent::from(KeyCode::Char('y'))));
    assert_eq!(
        (delete.action, delete.key().unwrap().as_str()),
        (KeyAction::Delete, "AKIABOB0000000000002")
    );
    let keys = vec![key(
        "AKIABOB0000000000001",
        KeyStatus::Active,
        10,
        Some((1, "ec2", "us-east-1")),
    )];
    let next = app.on_write_event(WriteEvent::Applied {
        request: delete,
        result: Ok(Done {
            keys: Some(keys),
            credentials: None,
            password_enabled: None,
            request_id: None,
        }),
    });
    let rotate = write_request(next);
    assert_eq!(
        (rotate.action, rotate.key().unwrap().as_str()),
        (KeyAction::Rotate, "AKIABOB0000000000001")
    );
}

#[test]
fn dialogs_render_at_tiny_sizes() {
    let mut app = at_key(true, "ci-deploy", "AKIAOLD0000000000001");
    ask(&mut app, KeyAction::Delete);
    for w in 0..=30u16 {
        for h in 0..=10u16 {
            screen(&app, w, h);
        }
    }
}

#[test]
fn a_big_view_is_rebuilt_at_most_every_two_seconds_while_data_arrives() {
    let mut app = App::new(Policy::default(), now(), "op".into(), false);
    let mut evs = events();
    // Make prod-payments big: 10,001 users × 2 keys = 20,002 key rows.
    if let ScanEvent::AccountDone { scan, .. } = &mut evs[1] {
        let template = scan.users[0].clone();
        scan.users = (0..10_001)
            .map(|i| {
                let mut u = template.clone();
                u.name = format!("bot-{i:05}");
                u.access_keys = vec![
                    key(&format!("AKIAA{i:015}"), KeyStatus::Active, 400, None),
                    key(&format!("AKIAB{i:015}"), KeyStatus::Inactive, 10, None),
                ];
                u
            })
            .collect();
    }
    let late = evs.remove(2); // empty-sandbox arrives later, with one user and one key
    for e in evs {
        app.on_scan_event(e);
    }
    press(&mut app, Action::Command);
    type_text(&mut app, "keys");
    app.on_key(KeyEvent::from(KeyCode::Enter));
    app.refresh();
    assert_eq!(app.view().table.counts().1, 20_002);

    let mut late = late;
    if let ScanEvent::AccountDone { scan, .. } = &mut late {
        scan.users = vec![fixture::user(
            "late",
            10,
            None,
            None,
            vec![key("AKIALATE000000000001", KeyStatus::Active, 5, None)],
        )];
    }
    app.on_scan_event(late);
    app.tick(now() + chrono::Duration::seconds(1));
    assert_eq!(app.view().table.counts().1, 20_002, "not rebuilt within 2 s");
    app.tick(now() + chrono::Duration::seconds(3));
    assert_eq!(app.view().table.counts().1, 20_003, "rebuilt after 2 s");
}

#[test]
fn a_key_used_since_the_confirmation_is_confirmed_again_with_its_live_last_use() {
    let mut app = at_key(true, "ci-deploy", "AKIAOLD0000000000001");
    ask(&mut app, KeyAction::Deactivate);
    let request = write_request(app.on_key(KeyEvent::from(KeyCode::Char('y'))));
    let seen = request.last_used.clone();
    assert_eq!(seen.as_ref().map(|u| u.date), Some(now() - chrono::Duration::days(2)));
    let live = key(
        "AKIAOLD0000000000001",
        KeyStatus::Active,
        400,
        Some((0, "sts", "us-east-1")),
    );
    let next = app.on_write_event(WriteEvent::Applied {
        request,
        result: Err(RemediateError::UsedSince {
            live: live.clone(),
            seen,
        }),
    });
    assert!(next.is_none(), "nothing is written without a fresh confirmation");
    let Step::Reconfirm { confirm, then_rotate } = app.write.step() else {
        panic!("{:?}", app.write)
    };
    assert_eq!(then_rotate, &None);
    assert_eq!(confirm.lines[3], "last use  used today by sts in us-east-1 (read live)");
    let text = format!("{}", screen(&app, 100, 24).backend());
    assert!(text.contains("used since you confirmed"), "{text}");
    assert!(text.contains("deactivating may break the workload"), "{text}");
    let again = write_request(app.on_key(KeyEvent::from(KeyCode::Char('y'))));
    assert_eq!(again.last_used, live.last_used, "confirmed against the live last use");
    assert!(matches!(app.write.step(), Step::Writing { .. }));
}

#[test]
fn a_rotation_without_an_answer_names_the_orphan_key_and_shows_it() {
    let mut app = at_key(true, "ci-deploy", "AKIAOLD0000000000001");
    ask(&mut app, KeyAction::Rotate);
    let request = write_request(app.on_key(KeyEvent::from(KeyCode::Char('y'))));
    let found = "access key AKIAORPHAN0000000001 was created, whose secret nobody has: deactivate and delete it, then rotate again";
    let keys = vec![
        key(
            "AKIAOLD0000000000001",
            KeyStatus::Active,
            400,
            Some((2, "s3", "eu-west-1")),
        ),
        key("AKIAORPHAN0000000001", KeyStatus::Active, 0, None),
    ];
    app.on_write_event(WriteEvent::Rotated {
        request,
        result: Err(RemediateError::Unknown {
            what: "create a new access key for ci-deploy".into(),
            error: keytriage::aws::Error::Transport {
                action: "iam:CreateAccessKey",
                message: "connection closed".into(),
            },
            found: found.into(),
            keys: Some(keys),
        }),
    });
    let Step::Message { title, text, error } = app.write.step() else {
        panic!("{:?}", app.write)
    };
    assert_eq!((title.as_str(), *error), ("Rotate: outcome unknown", true));
    assert!(text.ends_with(found), "{text}");
    assert!(
        app.store
            .key(&prod(), "ci-deploy", &AccessKeyId("AKIAORPHAN0000000001".into()))
            .is_some(),
        "the orphan key is in the store, to deactivate and delete"
    );
}

#[test]
fn the_confirmation_waits_for_the_live_read_and_warns_from_the_live_last_use() {
    // The scan says bob's inactive key was never used; read live, it was used today.
    let mut app = at_key(true, "bob", "AKIABOB0000000000002");
    let e = press(&mut app, Action::Key(KeyAction::Delete));
    let Some(Effect::ReadKey(request)) = e else {
        panic!("expected a live read, got {e:?}")
    };
    assert_eq!(
        (
            request.action,
            request.key().unwrap().as_str(),
            request.last_used.as_ref()
        ),
        (KeyAction::Delete, "AKIABOB0000000000002", None)
    );
    let Step::Reading { text, .. } = app.write.step() else {
        panic!("{:?}", app.write)
    };
    assert_eq!(
        text,
        "reading access key AKIABOB0000000000002 of bob in prod-payments live (status and last use)…"
    );
    assert!(
        app.on_key(KeyEvent::from(KeyCode::Char('y'))).is_none(),
        "nothing to confirm before the read"
    );
    let live = key(
        "AKIABOB0000000000002",
        KeyStatus::Inactive,
        30,
        Some((0, "sts", "us-east-1")),
    );
    // A read answered for another request (an abandoned one) is not this one's.
    let mut other = request.clone();
    other.target = Target::AccessKey(AccessKeyId("AKIAOTHER00000000001".into()));
    app.on_write_event(WriteEvent::KeyRead {
        request: other,
        result: Ok(keytriage::remediate::Live::Key(live.clone())),
    });
    assert!(matches!(app.write.step(), Step::Reading { .. }));
    app.on_write_event(WriteEvent::KeyRead {
        request,
        result: Ok(keytriage::remediate::Live::Key(live.clone())),
    });
    let Step::Confirm(c) = app.write.step() else {
        panic!("{:?}", app.write)
    };
    assert_eq!(c.lines[3], "last use  used today by sts in us-east-1 (read live)");
    assert_eq!(
        c.warnings,
        [
            "used today by sts in us-east-1: deleting it was in use until recently",
            "deleting cannot be undone"
        ]
    );
    insta::assert_snapshot!("confirm_after_live_read", screen(&app, 90, 24).backend());
    let r = write_request(app.on_key(KeyEvent::from(KeyCode::Char('y'))));
    assert_eq!(
        r.last_used, live.last_used,
        "the write is checked against the live last use"
    );
}

#[test]
fn a_key_that_vanished_or_changed_since_the_scan_says_so_instead_of_asking() {
    let mut app = at_key(true, "ci-deploy", "AKIAOLD0000000000001");
    let Some(Effect::ReadKey(request)) = press(&mut app, Action::Key(KeyAction::Deactivate)) else {
        panic!()
    };
    insta::assert_snapshot!("reading_the_key_live", screen(&app, 90, 24).backend());
    let mut live = app
        .store
        .key(&prod(), "ci-deploy", request.key().unwrap())
        .cloned()
        .unwrap();
    live.status = KeyStatus::Inactive;
    app.on_write_event(WriteEvent::KeyRead {
        request: request.clone(),
        result: Ok(keytriage::remediate::Live::Key(live)),
    });
    let Step::Message { title, text, error } = app.write.step() else {
        panic!("{:?}", app.write)
    };
    assert_eq!(
        (title.as_str(), text.as_str(), *error),
        (
            "Deactivate",
            "access key AKIAOLD0000000000001 of ci-deploy is now Inactive (it was Active when scanned); nothing was changed — rescan the account",
            true
        )
    );
    app.on_key(KeyEvent::from(KeyCode::Esc));

    let Some(Effect::ReadKey(request)) = press(&mut app, Action::Key(KeyAction::Deactivate)) else {
        panic!()
    };
    app.on_write_event(WriteEvent::KeyRead {
        request,
        result: Err(RemediateError::Changed(
            "access key AKIAOLD0000000000001 of ci-deploy no longer exists".into(),
        )),
    });
    let Step::Message { text, .. } = app.write.step() else {
        panic!("{:?}", app.write)
    };
    assert_eq!(
        text,
        "access key AKIAOLD0000000000001 of ci-deploy no longer exists; nothing was changed — rescan the account"
    );

    // Esc while reading closes; the late answer is dropped.
    app.on_key(KeyEvent::from(KeyCode::Esc));
    let Some(Effect::ReadKey(request)) = press(&mut app, Action::Key(KeyAction::Deactivate)) else {
        panic!()
    };
    app.on_key(KeyEvent::from(KeyCode::Esc));
    assert!(!app.write.is_open());
    let live = app
        .store
        .key(&prod(), "ci-deploy", request.key().unwrap())
        .cloned()
        .unwrap();
    app.on_write_event(WriteEvent::KeyRead {
        request,
        result: Ok(keytriage::remediate::Live::Key(live)),
    });
    assert!(!app.write.is_open(), "a late read opens nothing");
}

// ---- marks and bulk writes ----

/// The app on `:keys` (all three access keys), writes as given.
fn at_keys(write: bool) -> App {
    let mut app = app();
    app.write_mode = write;
    press(&mut app, Action::Command);
    type_text(&mut app, "keys");
    app.on_key(KeyEvent::from(KeyCode::Enter));
    app.refresh();
    app
}

fn bob2() -> RowId {
    RowId::Key(prod(), "bob".into(), AccessKeyId("AKIABOB0000000000002".into()))
}

// See: issue 12, `:plan FILE` writes the marked rows as a plan.
#[test]
fn plan_command_makes_a_plan_of_the_marked_keys() {
    let mut app = at_keys(false);
    press(&mut app, Action::Filter);
    type_text(&mut app, "bob");
    app.on_key(KeyEvent::from(KeyCode::Enter));
    press(&mut app, Action::MarkShown);
    assert_eq!(app.marks.len(), 2);
    press(&mut app, Action::Command);
    type_text(&mut app, "plan deactivate ~/bob-plan.json");
    let effect = app.on_key(KeyEvent::from(KeyCode::Enter));
    let Some(Effect::WritePlan { path, plan }) = effect else {
        panic!("{effect:?}")
    };
    assert_eq!(path, "~/bob-plan.json");
    // bob's inactive key is left out: deactivating it would change nothing.
    let keys: Vec<(&str, KeyStatus)> = plan
        .targets
        .iter()
        .map(|t| (t.access_key_id.as_str(), t.status))
        .collect();
    assert_eq!(keys, [("AKIABOB0000000000001", KeyStatus::Active)]);
    assert_eq!(
        (plan.action, plan.caller.as_str()),
        (KeyAction::Deactivate, app.identity.as_str())
    );
    assert_eq!(plan.verify(now(), 24), Ok(()), "a sealed plan that apply accepts");

    let plan = app.marks.plan(&app.store, "delete", &app.identity, app.now).unwrap();
    assert_eq!(plan.targets.len(), 2, "delete takes both");
    assert_eq!(
        app.marks
            .plan(&app.store, "rotate", &app.identity, app.now)
            .unwrap_err(),
        "plan action 'rotate' is unrecognized (deactivate, delete or activate)"
    );
    press(&mut app, Action::Command);
    type_text(&mut app, "plan deactivate");
    assert!(app.on_key(KeyEvent::from(KeyCode::Enter)).is_none());
    assert_eq!(
        app.flash.clone().unwrap().text,
        "usage: :plan deactivate|delete|activate FILE (of the marked keys)"
    );
}

#[test]
fn marks_toggle_survive_sort_filter_and_rescan_and_a_vanished_one_is_dropped_with_a_note() {
    let mut app = at_keys(false);
    app.view_select(&bob2());
    press(&mut app, Action::ToggleMark);
    assert_eq!(app.marks, [bob2()].into_iter().collect());
    assert_eq!(app.marks.summary().as_deref(), Some("marked 1 key"));
    insta::assert_snapshot!("keys_with_a_mark", screen(&app, 120, 9).backend());
    // Space again unmarks.
    app.view_select(&bob2());
    press(&mut app, Action::ToggleMark);
    assert!(app.marks.is_empty());

    // The filter marks what it shows: bob's two keys.
    press(&mut app, Action::Filter);
    type_text(&mut app, "bob");
    app.on_key(KeyEvent::from(KeyCode::Enter));
    press(&mut app, Action::MarkShown);
    assert_eq!(app.marks.len(), 2);
    assert_eq!(app.flash.clone().unwrap().text, "marked 2 rows shown");
    // Sorting, clearing the filter, going to another view and back: the marks stay.
    press(&mut app, Action::NextSort);
    press(&mut app, Action::Back);
    assert_eq!(app.view().table.counts().0, 3, "filter cleared");
    press(&mut app, Action::Back);
    press(&mut app, Action::Command);
    type_text(&mut app, "keys");
    app.on_key(KeyEvent::from(KeyCode::Enter));
    app.refresh();
    assert_eq!(app.view().table.marks.len(), 2, "the view shows the app's marks");

    // A rescan in which bob's inactive key is gone: its mark is dropped, with a note.
    let mut rescan = events().remove(1);
    if let ScanEvent::AccountDone { scan, .. } = &mut rescan {
        let bob = scan.users.iter_mut().find(|u| u.name == "bob").unwrap();
        bob.access_keys.retain(|k| k.id.as_str() != "AKIABOB0000000000002");
    }
    app.on_scan_event(rescan);
    app.refresh();
    assert_eq!(
        app.marks,
        [RowId::Key(
            prod(),
            "bob".into(),
            AccessKeyId("AKIABOB0000000000001".into())
        )]
        .into_iter()
        .collect()
    );
    assert_eq!(
        app.flash.clone().unwrap().text,
        "mark dropped: access key AKIABOB0000000000002 of bob no longer exists in the latest scan"
    );
    press(&mut app, Action::ClearMarks);
    assert!(app.marks.is_empty());
}

#[test]
fn bulk_marks_in_read_only_refuse_before_anything_starts() {
    let mut app = at_keys(false);
    press(&mut app, Action::MarkShown);
    assert!(press(&mut app, Action::Key(KeyAction::Deactivate)).is_none());
    assert!(!app.bulk.is_open());
    assert_eq!(
        app.flash.clone().unwrap().text,
        "read-only: start keytriage with --write to deactivate keys (nothing was changed)"
    );
}

#[test]
fn bulk_deactivate_lists_every_target_runs_with_progress_and_ends_with_a_summary() {
    use keytriage::remediate::bulk::{BatchEvent, Outcome};
    use keytriage::tui::bulk_flow::Step as Bulk;
    let mut app = at_keys(true);
    press(&mut app, Action::MarkShown);
    assert!(press(&mut app, Action::Key(KeyAction::Deactivate)).is_none());
    let Bulk::Confirm(c) = app.bulk.step() else {
        panic!("{:?}", app.bulk)
    };
    let keys: Vec<&str> = c.targets.iter().map(|t| t.key().unwrap().as_str()).collect();
    assert_eq!(
        keys,
        ["AKIABOB0000000000001", "AKIAOLD0000000000001"],
        "the inactive one is left out"
    );
    assert!(!c.confirm_focused, "Cancel focused");
    insta::assert_snapshot!("bulk_confirm_deactivate", screen(&app, 90, 24).backend());
    // Enter on Cancel cancels; nothing starts.
    assert!(app.on_key(KeyEvent::from(KeyCode::Enter)).is_none());
    assert!(!app.bulk.is_open());

    press(&mut app, Action::Key(KeyAction::Deactivate));
    let Some(Effect::Batch {
        batch_id,
        targets,
        stop,
    }) = app.on_key(KeyEvent::from(KeyCode::Char('y')))
    else {
        panic!("{:?}", app.bulk)
    };
    assert!(batch_id.starts_with("batch-"), "{batch_id}");
    assert_eq!(targets.len(), 2);
    let mut done_key = app
        .store
        .key(&prod(), "bob", targets[0].key().unwrap())
        .cloned()
        .unwrap();
    done_key.status = KeyStatus::Inactive;
    let bob_keys = vec![
        done_key,
        app.store
            .key(&prod(), "bob", &AccessKeyId("AKIABOB0000000000002".into()))
            .cloned()
            .unwrap(),
    ];
    let skipped = Outcome::Skipped(
        "access key AKIAOLD0000000000001 was used since you confirmed (last use now 2026-11-29 11:00 UTC by s3; you saw 2026-11-27 12:00 UTC by s3 in eu-west-1)".into(),
    );
    app.on_write_event(WriteEvent::Batch(BatchEvent::Started(0)));
    app.on_write_event(WriteEvent::Batch(BatchEvent::Started(1)));
    app.on_write_event(WriteEvent::Batch(BatchEvent::Finished(
        0,
        Outcome::Done {
            request_id: Some("r-1".into()),
            keys: Some(bob_keys),
        },
    )));
    let Bulk::Running(run) = app.bulk.step() else {
        panic!("{:?}", app.bulk)
    };
    assert_eq!(
        run.progress(),
        "deactivating 2 keys: 1 done · 0 skipped · 0 failed · 1 in flight · 0 waiting"
    );
    assert_eq!(
        app.store.key(&prod(), "bob", targets[0].key().unwrap()).unwrap().status,
        KeyStatus::Inactive,
        "the store has the key as re-read"
    );
    // Esc stops launching new writes; the dialog stays until the batch ends.
    app.on_key(KeyEvent::from(KeyCode::Esc));
    assert!(stop.load(std::sync::atomic::Ordering::SeqCst));
    assert!(matches!(app.bulk.step(), Bulk::Running(_)));
    app.on_write_event(WriteEvent::Batch(BatchEvent::Finished(1, skipped.clone())));
    let outcomes = vec![
        Outcome::Done {
            request_id: Some("r-1".into()),
            keys: None,
        },
        skipped,
    ];
    app.on_write_event(WriteEvent::BatchEnded(Ok(outcomes)));
    let Bulk::Summary(run) = app.bulk.step() else {
        panic!("{:?}", app.bulk)
    };
    assert_eq!(run.tally(), [1, 1, 0, 0, 0]);
    // The batch id holds the time, the process id and a counter: shown as <id>.
    let text = format!("{}", screen(&app, 100, 20).backend())
        .replace(&run.batch_id, &format!("{:<w$}", "batch-<id>", w = run.batch_id.len()));
    insta::assert_snapshot!("bulk_summary", text);
    assert_eq!(
        app.flash.clone().unwrap().text,
        "deactivate batch: 1 done, 1 skipped, 0 failed, 0 unknown, 0 not started"
    );
    // The done key is unmarked; the skipped one and the left-out one stay marked.
    assert!(
        !app.marks
            .contains(&RowId::Key(prod(), "bob".into(), targets[0].key().unwrap().clone()))
    );
    assert_eq!(app.marks.len(), 2);
    app.on_key(KeyEvent::from(KeyCode::Enter));
    assert!(!app.bulk.is_open());
}

#[test]
fn bulk_delete_of_active_keys_needs_the_number_of_keys_typed() {
    use keytriage::tui::bulk_flow::Step as Bulk;
    let mut app = at_keys(true);
    press(&mut app, Action::MarkShown);
    press(&mut app, Action::Key(KeyAction::Delete));
    let Bulk::Confirm(c) = app.bulk.step() else {
        panic!("{:?}", app.bulk)
    };
    assert_eq!(c.must_type.as_deref(), Some("3"));
    assert!(
        app.on_key(KeyEvent::from(KeyCode::Char('y'))).is_none(),
        "y is not enough"
    );
    app.on_key(KeyEvent::from(KeyCode::Tab));
    type_text(&mut app, "2");
    assert!(app.on_key(KeyEvent::from(KeyCode::Enter)).is_none(), "the wrong number");
    app.on_key(KeyEvent::from(KeyCode::Backspace));
    type_text(&mut app, "3");
    insta::assert_snapshot!("bulk_confirm_delete", screen(&app, 90, 30).backend());
    let Some(Effect::Batch { targets, .. }) = app.on_key(KeyEvent::from(KeyCode::Enter)) else {
        panic!("{:?}", app.bulk)
    };
    assert_eq!(targets.len(), 3);
    assert!(targets.iter().all(|t| t.action == KeyAction::Delete));
}

#[test]
fn the_bulk_confirmation_scrolls_and_renders_at_tiny_sizes() {
    use keytriage::tui::bulk_flow::Step as Bulk;
    let mut app = at_keys(true);
    press(&mut app, Action::MarkShown);
    press(&mut app, Action::Key(KeyAction::Delete));
    let text = format!("{}", screen(&app, 90, 12).backend());
    assert!(text.contains("(lines 1–"), "{text}");
    app.on_key(KeyEvent::from(KeyCode::Char('j')));
    let Bulk::Confirm(c) = app.bulk.step() else { panic!() };
    assert_eq!(c.scroll, 1);
    for w in 0..=30u16 {
        for h in 0..=10u16 {
            screen(&app, w, h);
        }
    }
}

#[test]
fn findings_group_by_rule_and_account_then_rule_then_account_and_enter_expands_a_group() {
    use keytriage::tui::groups::GroupBy;
    let mut app = app();
    press(&mut app, Action::Command);
    type_text(&mut app, "findings");
    app.on_key(KeyEvent::from(KeyCode::Enter));
    app.refresh();
    let flat = app.view().table.counts().0;
    press(&mut app, Action::Group);
    assert_eq!(app.view().kind, ViewKind::FindingGroups(GroupBy::RuleAndAccount));
    insta::assert_snapshot!("finding_groups", screen(&app, 100, 14).backend());
    // The groups' counts add up to the flat view's rows.
    let total: usize = app
        .view()
        .table
        .shown()
        .map(|r| r.cells[2].parse::<usize>().unwrap())
        .sum();
    assert_eq!(total, flat);
    press(&mut app, Action::Group);
    assert_eq!(app.view().kind, ViewKind::FindingGroups(GroupBy::Rule));
    app.view_select(&RowId::Group(Some("key-not-rotated"), None));
    press(&mut app, Action::Open);
    assert_eq!(app.view().kind, ViewKind::FindingsIn(Some("key-not-rotated"), None));
    let rules: Vec<&str> = app.view().table.shown().map(|r| r.cells[1].as_str()).collect();
    assert_eq!(rules, ["key-not-rotated"]);
    press(&mut app, Action::Back);
    press(&mut app, Action::Group);
    assert_eq!(app.view().kind, ViewKind::FindingGroups(GroupBy::Account));
    let accounts: Vec<String> = app.view().table.shown().map(|r| r.cells[1].to_string()).collect();
    assert_eq!(accounts, ["prod-payments"]);
    press(&mut app, Action::Group);
    assert_eq!(app.view().kind, ViewKind::Findings, "back to flat");
}

/// The screen's text, row by row, without the table's border.
fn rows_text(t: &Terminal<TestBackend>) -> Vec<String> {
    let buf = t.backend().buffer();
    (0..buf.area.height)
        .map(|y| {
            let line: String = (0..buf.area.width).map(|x| buf[(x, y)].symbol()).collect();
            line.trim_matches(|c: char| c == '│' || c.is_whitespace()).to_owned()
        })
        .collect()
}

fn discovery_failed_app() -> App {
    let mut app = App::new(Policy::default(), now(), "not connected".into(), false);
    app.on_scan_event(ScanEvent::DiscoveryFailed {
        scan_id: keytriage::tui::store::Store::SCAN_ID,
        error: keytriage::aws::Error::NoCredentials {
            profile: Some("audit".into()),
            message: "the SSO session for this profile has expired".into(),
        },
    });
    app.refresh();
    app
}

// See: issue 9, item 9. The error is shown whole (wrapped in the body, hint included), the
// table no longer says "scanning…", and the header points at R.
#[test]
fn failed_discovery_shows_the_whole_error_in_the_body() {
    let app = discovery_failed_app();
    let error = app.store.discovery_error.clone().unwrap();
    assert!(
        error.ends_with("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"),
        "{error}"
    );
    let t = screen(&app, 80, 24);
    let rows = rows_text(&t);
    assert!(
        rows[1].contains("discovery failed (details below); press R to retry"),
        "{rows:#?}"
    );
    let body = rows[2..].join(" ");
    let words = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(words(&body).contains(&words(&error)), "the whole error:\n{rows:#?}");
    assert!(body.contains("press R to retry"), "{rows:#?}");
    assert!(!body.contains("scanning…"), "{rows:#?}");
    // Tiny sizes still render.
    for (w, h) in [(0, 0), (1, 1), (20, 5)] {
        screen(&app, w, h);
    }
}

// See: issue 9, item 9. R retries discovery as a new scan run; the failed run's late events
// are ignored, the new run's are taken.
#[test]
fn r_after_a_failed_discovery_retries_it_as_a_new_scan_run() {
    let mut app = discovery_failed_app();
    let e = press(&mut app, Action::Rescan);
    assert!(matches!(e, Some(Effect::Discover)), "{e:?}");
    assert_eq!(app.store.scan_id, 2);
    assert_eq!(app.store.discovery_error, None);
    let rows = rows_text(&screen(&app, 80, 24));
    assert!(rows[1].contains("listing the organization's accounts…"), "{rows:#?}");
    assert!(
        press(&mut app, Action::Rescan).is_none(),
        "no second retry while the first runs"
    );

    app.on_scan_event(ScanEvent::DiscoveryFailed {
        scan_id: keytriage::tui::store::Store::SCAN_ID,
        error: keytriage::aws::Error::CredentialReportUnreadable("stale".into()),
    });
    assert_eq!(app.store.discovery_error, None, "the old run's event is ignored");
    for mut event in events() {
        match &mut event {
            ScanEvent::Discovered { scan_id, .. }
            | ScanEvent::Progress { scan_id, .. }
            | ScanEvent::AccountDone { scan_id, .. }
            | ScanEvent::DiscoveryFailed { scan_id, .. }
            | ScanEvent::Finished { scan_id } => *scan_id = 2,
        }
        app.on_scan_event(event);
    }
    app.refresh();
    assert!(app.store.discovered);
    assert!(selected(&app).is_some(), "the accounts are shown");
}

fn open_view(app: &mut App, name: &str) {
    press(app, Action::Command);
    type_text(app, name);
    app.on_key(KeyEvent::from(KeyCode::Enter));
    app.refresh();
}

fn screen_text(app: &App, w: u16, h: u16) -> String {
    let t = screen(app, w, h);
    let buf = t.backend().buffer();
    (0..h)
        .map(|y| (0..w).map(|x| buf[(x, y)].symbol().to_owned()).collect::<String>())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn a_root_finding_is_readable_in_full_with_evidence_and_what_to_do() {
    let mut app = app();
    open_view(&mut app, "findings");
    let prod = AccountId::parse("111111111111").unwrap();
    let root = keytriage::audit::ROOT_USER;
    let id = RowId::Finding(prod.clone(), root.into(), None, "root-access-key");
    app.view_select(&id);
    assert_eq!(selected(&app), Some(id));
    // Enter has no other job on a root finding: it opens the detail.
    press(&mut app, Action::Open);
    assert_eq!(app.mode, Mode::Detail);
    let detail = app.store.accounts[0]
        .findings
        .iter()
        .find(|f| f.rule.id() == "root-access-key")
        .map(|f| f.detail.clone())
        .unwrap();
    let text = keytriage::tui::detail::build(
        app.detail.as_ref().unwrap(),
        &app.store,
        &app.policy,
        app.now,
        &Theme { no_color: true },
    )
    .unwrap()
    .text();
    assert!(text.contains(&detail), "full detail '{detail}' in {text}");
    assert!(text.contains("CIS 1.4, IAM.4"));
    assert!(text.contains("evidence") && text.contains("what to do"));
    assert!(text.contains("keytriage cannot change root keys"));
    insta::assert_snapshot!("detail_root_finding_80x24", screen(&app, 80, 24).backend());
    insta::assert_snapshot!("detail_root_finding_200x60", screen(&app, 200, 60).backend());
    // Esc closes; i opens it again from the same row.
    press(&mut app, Action::Back);
    assert_eq!(app.mode, Mode::Normal);
    assert_eq!(app.view().kind, ViewKind::Findings, "Esc closed the popup only");
    press(&mut app, Action::Details);
    assert_eq!(app.mode, Mode::Detail);
}

#[test]
fn an_account_error_is_shown_in_full_with_its_hint() {
    let mut app = app();
    app.view_select(&RowId::Account(AccountId::parse("333333333333").unwrap()));
    press(&mut app, Action::Details);
    assert_eq!(app.mode, Mode::Detail);
    let screen80 = screen_text(&app, 80, 24).replace(['│', '\n'], "");
    let squeezed: String = screen80.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        squeezed.contains("cannot assume arn:aws:iam::333333333333:role/OrganizationAccountAccessRole"),
        "whole error, wrapped: {squeezed}"
    );
    assert!(squeezed.contains("trusts the caller"), "hint: {squeezed}");
    // An account that was not read never looks clean: no zero counts, "unknown".
    let tall = screen_text(&app, 120, 60);
    assert!(tall.contains("unknown: the account was not read"), "{tall}");
    assert!(!tall.contains("CRIT 0  HIGH 0"), "{tall}");
    insta::assert_snapshot!("detail_account_error_80x24", screen(&app, 80, 24).backend());
}

#[test]
fn root_findings_are_reachable_from_the_account() {
    let mut app = app();
    press(&mut app, Action::Open);
    let prod = AccountId::parse("111111111111").unwrap();
    let root = RowId::User(prod, keytriage::audit::ROOT_USER.into());
    assert_eq!(selected(&app), Some(root), "the root user leads its account's users");
    let row = app.view().table.selected_row().unwrap();
    assert_eq!(row.cells.last().map(|c| c.as_str()), Some("CRIT 2"));
    press(&mut app, Action::Open);
    assert_eq!(app.mode, Mode::Detail, "Enter on the root user shows it in full");
    let text = screen_text(&app, 120, 40);
    assert!(
        text.contains("root-access-key") && text.contains("root-no-mfa"),
        "{text}"
    );
}

#[test]
fn every_key_gets_an_answer_and_answers_go_stale() {
    let mut app = app();
    // A key action on the accounts view: nothing to do here, and where it works.
    app.on_key(KeyEvent::from(KeyCode::Char('d')));
    let text = app.flash.as_ref().map(|f| f.text.clone()).unwrap_or_default();
    assert!(text.starts_with("d: nothing to do here"), "{text}");
    assert!(text.contains("open a user, :keys or :credentials"), "{text}");
    app.on_key(KeyEvent::from(KeyCode::Char('z')));
    assert_eq!(
        app.flash.as_ref().map(|f| f.text.as_str()),
        Some("z: no such key here (? lists them)")
    );
    // Rescan: started (with the time), then finished (with the time and the outcome).
    let Some(Effect::Rescan(a)) = press(&mut app, Action::Rescan) else {
        panic!()
    };
    assert_eq!(
        app.flash.as_ref().map(|f| f.text.as_str()),
        Some("rescanning prod-payments (111111111111) since 12:00:00 UTC…")
    );
    assert!(format!("{}", screen(&app, 80, 24).backend()).contains("rescanning prod-payments"));
    let later = app.now + chrono::Duration::seconds(3);
    app.tick(later);
    let done = events()
        .into_iter()
        .find(|e| matches!(e, ScanEvent::AccountDone { scan, .. } if scan.account.id == a.id))
        .unwrap();
    app.on_scan_event(done);
    assert_eq!(
        app.flash.as_ref().map(|f| f.text.as_str()),
        Some("rescanned prod-payments at 12:00:03 UTC: ok, 5 findings")
    );
    // The rescan completes a scan run, which is then recorded: the recording's message adds
    // to what the rescan found instead of replacing it.
    let changes = keytriage::triage::Changes {
        resolved: 1,
        previous_scan_at: Some(now()),
        ..Default::default()
    };
    app.on_recorded(&changes, &[]);
    let flash = app.flash.clone().unwrap();
    assert_eq!(
        flash.text,
        "rescanned prod-payments at 12:00:03 UTC: ok, 5 findings · recorded: 0 new, 1 resolved, 0 excepted (since 2026-11-29 12:00 UTC)"
    );
    assert!(!flash.error);
    // A recording with no rescan before it says only what changed.
    app.on_recorded(&changes, &[]);
    assert_eq!(
        app.flash.as_ref().map(|f| f.text.as_str()),
        Some("0 new, 1 resolved, 0 excepted (since 2026-11-29 12:00 UTC)")
    );
    // Stale after ten seconds on screen.
    app.tick(later + chrono::Duration::seconds(1));
    app.tick(later + chrono::Duration::seconds(5));
    assert!(app.flash.is_some());
    app.tick(later + chrono::Duration::seconds(12));
    assert_eq!(app.flash, None, "cleared when stale");
}

#[test]
fn cancel_says_nothing_was_changed() {
    let mut app = at_key(true, "ci-deploy", "AKIAOLD0000000000001");
    press(&mut app, Action::Key(KeyAction::Deactivate));
    assert!(app.write.is_open());
    app.on_key(KeyEvent::from(KeyCode::Esc));
    assert!(!app.write.is_open());
    assert_eq!(
        app.flash.as_ref().map(|f| f.text.as_str()),
        Some("cancelled: did not deactivate AKIAOLD0000000000001; nothing was changed")
    );
}

#[test]
fn rescanning_a_denied_account_says_it_is_still_denied_and_why_after_recording() {
    let mut app = app();
    let locked = AccountId::parse("333333333333").unwrap();
    app.view_select(&RowId::Account(locked.clone()));
    let Some(Effect::Rescan(a)) = press(&mut app, Action::Rescan) else {
        panic!("R on the denied account rescans it")
    };
    assert_eq!(a.id, locked);
    let done = events()
        .into_iter()
        .find(|e| matches!(e, ScanEvent::AccountDone { scan, .. } if scan.account.id == locked))
        .unwrap();
    app.on_scan_event(done);
    app.on_recorded(&keytriage::triage::Changes::default(), &[]);
    let flash = app.flash.clone().unwrap();
    assert!(flash.error, "a rescan that failed again is an error: {flash:?}");
    assert!(
        flash.text.starts_with("rescanned locked-research at 12:00:00 UTC: denied, findings unknown (not read) — cannot assume arn:aws:iam::333333333333:role/OrganizationAccountAccessRole (AccessDenied) (i shows it in full) · recorded: 0 new"),
        "{}",
        flash.text
    );
}

#[test]
fn header_says_denied_like_the_scan_column_and_counts_fit_at_80_columns() {
    let app = app();
    let text = screen_text(&app, 80, 24);
    let header = text.lines().nth(1).unwrap();
    assert!(header.contains("1 denied") && !header.contains("failed"), "{header}");
    assert!(header.contains("LOW 1"), "every count fits: {header}");
    // The denied account sorts after every scanned one, not between CRIT 2 and CRIT 0.
    let order: Vec<String> = app.view().table.shown().map(|r| r.cells[0].to_string()).collect();
    assert_eq!(order, ["prod-payments", "empty-sandbox", "locked-research", "legacy"]);
}

#[test]
fn every_view_at_80x24_120x40_and_200x60() {
    let prod = AccountId::parse("111111111111").unwrap();
    let views: Vec<(&str, ViewKind)> = vec![
        ("accounts", ViewKind::Accounts),
        ("users", ViewKind::Users(None)),
        ("account_users", ViewKind::Users(Some(prod.clone()))),
        ("user", ViewKind::User(prod, "bob".into())),
        ("keys", ViewKind::Keys),
        ("findings", ViewKind::Findings),
        ("journal", ViewKind::Journal),
        ("credentials", ViewKind::Credentials),
        ("roles", ViewKind::Roles),
        ("rotations", ViewKind::Rotations),
        ("changes", ViewKind::Changes),
    ];
    for (name, kind) in views {
        let mut app = app();
        match &kind {
            ViewKind::Accounts => {}
            ViewKind::Users(Some(_)) => {
                press(&mut app, Action::Open);
            }
            ViewKind::User(a, u) => {
                press(&mut app, Action::Open);
                app.view_select(&RowId::User(a.clone(), u.as_str().into()));
                press(&mut app, Action::Open);
            }
            _ => open_view(&mut app, name),
        }
        assert_eq!(app.view().kind, kind, "{name}");
        for (w, h) in [(80, 24), (120, 40), (200, 60)] {
            insta::assert_snapshot!(format!("view_{name}_{w}x{h}"), screen(&app, w, h).backend());
        }
    }
}

#[test]
fn filter_by_column_severity_and_negation_like_k9s() {
    let mut app = app();
    open_view(&mut app, "keys");
    let filter = |app: &mut App, text: &str| -> Vec<String> {
        press(app, Action::Filter);
        app.on_key(KeyEvent::new(
            KeyCode::Char('u'),
            crossterm::event::KeyModifiers::CONTROL,
        ));
        type_text(app, text);
        app.on_key(KeyEvent::from(KeyCode::Enter));
        app.view().table.shown().map(|r| r.cells[2].to_string()).collect()
    };
    assert_eq!(filter(&mut app, "user:bob").len(), 2);
    assert_eq!(filter(&mut app, "sev:high"), ["AKIAOLD0000000000001"]);
    assert_eq!(
        filter(&mut app, "!sev:high !status:inact"),
        ["AKIABOB0000000000001"],
        "two negated terms: not high, not inactive"
    );
    assert_eq!(filter(&mut app, "sev:low").len(), 1);
    press(&mut app, Action::Help);
    let text = format!("{}", screen(&app, 200, 60).backend());
    assert!(text.contains("user:jenkins") && text.contains("sev:high") && text.contains("! negates"));
}

#[test]
fn the_detail_popup_and_the_panel_render_at_every_small_size() {
    let mut app = app();
    press(&mut app, Action::Details);
    assert_eq!(app.mode, Mode::Detail);
    for (w, h) in [(0, 0), (1, 1), (2, 3), (10, 5), (20, 4), (40, 10), (60, 12), (80, 14)] {
        let mut buf = ratatui::buffer::Buffer::empty(ratatui::layout::Rect::new(0, 0, w, h));
        render::render(&app, &Theme { no_color: false }, buf.area, &mut buf);
    }
    // Scrolling past the end stays at the end; Esc closes.
    for _ in 0..50 {
        press(&mut app, Action::Down);
    }
    let _ = screen(&app, 60, 12);
    let at_end = app.detail_scroll.get();
    assert!(at_end > 0 && at_end < 50, "clamped to the end: {at_end}");
    press(&mut app, Action::Up);
    assert_eq!(app.detail_scroll.get(), at_end - 1, "one up from the end");
    press(&mut app, Action::Back);
    assert_eq!(app.mode, Mode::Normal);
}

#[test]
fn enter_on_a_key_in_a_users_view_shows_the_key_in_full() {
    let mut app = at_key(false, "ci-deploy", "AKIAOLD0000000000001");
    press(&mut app, Action::Open);
    assert_eq!(app.mode, Mode::Detail);
    let text = screen_text(&app, 100, 30);
    assert!(text.contains("access key AKIAOLD0000000000001"), "{text}");
    assert!(
        text.contains("key-not-rotated") && text.contains("what to do"),
        "{text}"
    );
}

#[test]
fn one_account_is_scanned_1_account() {
    let mut app = App::new(
        Policy::default(),
        now(),
        "arn:aws:iam::111111111111:user/operator".into(),
        false,
    );
    let evs = events();
    let ScanEvent::Discovered {
        organization,
        accounts,
        warnings,
        missing,
        ..
    } = evs[0].clone()
    else {
        panic!()
    };
    app.on_scan_event(ScanEvent::Discovered {
        scan_id: 1,
        organization,
        accounts: accounts.into_iter().take(1).collect(),
        warnings,
        missing,
    });
    app.on_scan_event(evs[1].clone());
    app.refresh();
    let text = screen_text(&app, 100, 10);
    assert!(text.contains(" scanned 1 account "), "{text}");
}

/// The fixture plus, in empty-sandbox, one rotation of each verdict (times to the hour).
fn rotations_app() -> App {
    let sandbox = AccountId::parse("222222222222").unwrap();
    let k = |id: &str, status, created: chrono::Duration, used: Option<(chrono::Duration, &str)>| AccessKey {
        id: AccessKeyId(id.into()),
        status,
        created: now() - created,
        last_used: used.map(|(ago, svc)| KeyLastUsed {
            date: now() - ago,
            service: Some(svc.into()),
            region: Some("eu-west-1".into()),
        }),
    };
    let (d, h) = (chrono::Duration::days, chrono::Duration::hours);
    let users = vec![
        fixture::user(
            "jenkins",
            900,
            None,
            None,
            vec![
                k("AKIAJENKINS000000001", KeyStatus::Active, d(420), Some((h(3), "s3"))),
                k("AKIAJENKINS000000002", KeyStatus::Active, d(2), Some((h(1), "s3"))),
            ],
        ),
        fixture::user(
            "etl-loader",
            400,
            None,
            None,
            vec![
                k("AKIAETL0000000000001", KeyStatus::Active, d(200), Some((d(3), "glue"))),
                k("AKIAETL0000000000002", KeyStatus::Active, d(2), Some((h(1), "glue"))),
            ],
        ),
        fixture::user(
            "fresh-rotator",
            300,
            None,
            None,
            vec![
                k("AKIAFRESH00000000001", KeyStatus::Active, d(300), Some((d(1), "sqs"))),
                k("AKIAFRESH00000000002", KeyStatus::Active, h(2), None),
            ],
        ),
        fixture::user(
            "reconciler",
            300,
            None,
            None,
            vec![
                k(
                    "AKIARECON00000000001",
                    KeyStatus::Inactive,
                    d(85),
                    Some((d(6), "dynamodb")),
                ),
                k(
                    "AKIARECON00000000002",
                    KeyStatus::Active,
                    d(5),
                    Some((h(1), "dynamodb")),
                ),
            ],
        ),
    ];
    let events = events().into_iter().map(|mut e| {
        if let ScanEvent::AccountDone { scan, .. } = &mut e
            && scan.account.id == sandbox
        {
            scan.users = users.clone();
        }
        e
    });
    fixture::app_of(events, true)
}

// See: issue 12, rotations in progress across the org.
#[test]
fn rotations_view_lists_every_rotation_with_the_old_keys_use_since_and_a_verdict() {
    let mut app = rotations_app();
    open_view(&mut app, "rotations");
    assert_eq!(app.view().kind, ViewKind::Rotations);
    insta::assert_snapshot!("rotations", screen(&app, 160, 12).backend());
    let rows: Vec<(String, String, String)> = app
        .view()
        .table
        .shown()
        .map(|r| (r.cells[1].to_string(), r.cells[5].to_string(), r.cells[6].to_string()))
        .collect();
    let row = |u: &str, used: &str, verdict: &str| (u.to_owned(), used.to_owned(), verdict.to_owned());
    assert_eq!(
        rows,
        [
            // Still used first, then too early, safe, and an old key already inactive.
            row("bob", "1 d ago by ec2 in us-east-1", "still used"),
            row("jenkins", "3 h ago by s3 in eu-west-1", "still used"),
            row("fresh-rotator", "not used", "too early"),
            row("etl-loader", "not used", "safe to deactivate"),
            row("reconciler", "not used", "delete old key"),
        ]
    ); // i: the old key in full, with the same verdict.
    let sandbox = AccountId::parse("222222222222").unwrap();
    app.view_select(&RowId::Key(
        sandbox,
        "jenkins".into(),
        AccessKeyId("AKIAJENKINS000000001".into()),
    ));
    press(&mut app, Action::Details);
    let text = screen_text(&app, 200, 40);
    assert!(
        text.contains("old key used 3 h ago by s3 in eu-west-1 → applications still use it"),
        "{text}"
    );
}

#[test]
fn enter_on_a_rotation_opens_the_user_at_the_old_key_and_d_deactivates_the_old_key_after_a_live_read() {
    let mut app = rotations_app();
    open_view(&mut app, "rotations");
    let sandbox = AccountId::parse("222222222222").unwrap();
    let old = RowId::Key(
        sandbox.clone(),
        "etl-loader".into(),
        AccessKeyId("AKIAETL0000000000001".into()),
    );
    app.view_select(&old);

    // d: the old key's confirmation, from a live read.
    ask(&mut app, KeyAction::Deactivate);
    assert!(app.write.is_open());
    app.on_key(KeyEvent::from(KeyCode::Tab));
    let r = write_request(app.on_key(KeyEvent::from(KeyCode::Enter)));
    assert_eq!(
        (
            r.action,
            r.account.id.clone(),
            r.user.as_str(),
            r.key().map(|k| k.as_str()).unwrap_or("-")
        ),
        (
            KeyAction::Deactivate,
            sandbox.clone(),
            "etl-loader",
            "AKIAETL0000000000001"
        )
    );

    // Enter: the user's view, the old key selected, the verdict in its header.
    let mut app = rotations_app();
    open_view(&mut app, "rotations");
    app.view_select(&old);
    press(&mut app, Action::Open);
    assert_eq!(app.view().kind, ViewKind::User(sandbox, "etl-loader".into()));
    assert_eq!(selected(&app), Some(old));
    let text = screen_text(&app, 120, 20);
    assert!(
        text.contains("keys     rotation in progress: old key not used since the new key was created 2 d ago → likely safe to deactivate"),
        "{text}"
    );
}

#[test]
fn the_panel_of_an_account_never_read_says_unknown_not_zero() {
    let mut app = app();
    app.view_select(&RowId::Account(AccountId::parse("333333333333").unwrap()));
    let text = screen_text(&app, 80, 24);
    // The panel's lines, from its titles to its bottom border, end above the status lines
    // (its error, wrapped) and the footer.
    let lines: Vec<&str> = text.lines().collect();
    let bottom = lines
        .iter()
        .rposition(|l| l.starts_with("└──────────────────┘"))
        .unwrap();
    let top = lines.iter().position(|l| l.contains(" key age · org ")).unwrap();
    let panel = &lines[top..=bottom];
    // The account's two charts say why there are no numbers; only the org's show buckets.
    assert!(panel[0].contains(" age · lock…earch "), "{}", panel[0]);
    assert_eq!(panel.join("\n").matches("unknown: the").count(), 2, "{text}");
    assert_eq!(
        panel.join("\n").matches("0–30").count(),
        1,
        "only the org's ages: {text}"
    );
    assert_eq!(
        panel.join("\n").matches("CRIT").count(),
        1,
        "only the org's severities: {text}"
    );
}

#[test]
fn panel_titles_keep_the_chart_name_and_cut_the_account_in_the_middle_at_80_columns() {
    let app = app();
    let text = screen_text(&app, 80, 24);
    // The selected row above says which account; the title must say which chart it is.
    let titles = text.lines().find(|l| l.contains(" key age · ")).unwrap();
    assert_eq!(
        titles,
        "┌ age · prod…ments ┐┌ key age · org ───┐┌ sev · prod…ments ┐┌ findings · org ──┐"
    );
    // With room, the names come whole.
    let wide = screen_text(&app, 200, 60);
    assert!(wide.contains(" key age · prod-payments ") && wide.contains(" findings · org, 4 accounts "));
}

#[test]
fn findings_at_80_columns_keep_accounts_whole_and_give_the_detail_room() {
    let mut app = app();
    open_view(&mut app, "findings");
    let text = screen_text(&app, 80, 24);
    let lines: Vec<&str> = text.lines().collect();
    let head = lines[3];
    let detail_at = head.find("DETAIL").unwrap_or_else(|| panic!("{head}"));
    let width = head.chars().count() - head[..detail_at].chars().count() - 1;
    assert!(width >= 20, "DETAIL has {width} cells: {head}");
    assert!(text.contains("prod-payments"), "the account whole: {text}");
    assert!(!text.contains("prod-pa…"), "{text}");
    // The rule id keeps its start when cut.
    assert!(text.contains("key-not-rot"), "{text}");
}

#[test]
fn a_long_status_message_wraps_and_reads_in_full_at_80_columns() {
    let mut app = app();
    let message = "rescan of locked-research failed: cannot assume arn:aws:iam::333333333333:role/OrganizationAccountAccessRole (AccessDenied): check the role exists and trusts the caller";
    app.flash = Some(keytriage::tui::app::Flash {
        text: message.into(),
        error: true,
    });
    let text = screen_text(&app, 80, 24);
    let lines: Vec<&str> = text.lines().collect();
    // Three status lines above the footer, together the whole message.
    let status = [lines[20], lines[21], lines[22]].map(str::trim_end).join(" ");
    assert_eq!(status, message, "{text}");
    assert!(lines[23].contains("? help"), "the footer stays: {text}");
    // A short message keeps one line.
    app.flash = Some(keytriage::tui::app::Flash {
        text: "rescan started".into(),
        error: false,
    });
    let text = screen_text(&app, 80, 24);
    assert_eq!(text.lines().nth(22).unwrap().trim_end(), " rescan started".trim_start());
}
