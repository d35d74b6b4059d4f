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
    let mut app = App::new(
        Policy::default(),
        now(),
        "arn:aws:iam::111111111111:user/operator".into(),
        false,
    );
    for e in events() {
        app.on_scan_event(e);
    }
    app.refresh();
    app
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
    let t = screen(&app, 80, 30);
    let text = format!("{}", t.backend());
    for b in keytriage::tui::keymap::active(&app.contexts()) {
        assert!(text.contains(b.help), "help shows '{}'", b.help);
    }
    assert!(!text.contains("deactivate the access key"), "only keys that work here");
    for (name, help, _) in keytriage::tui::views::commands() {
        assert!(text.contains(&format!(":{name}")), "help lists :{name}");
        assert!(text.contains(help), "help shows '{help}'");
    }
    assert!(text.contains(":journal") && text.contains("write actions, newest first"));
    assert!(
        text.contains("Ctrl-c") && text.contains("Ctrl-d"),
        "Ctrl keys come from the keymap"
    );
    insta::assert_snapshot!(t.backend());
    // In a user's view, the key actions are listed too.
    let mut app = at_key(true, "ci-deploy", "AKIAOLD0000000000001");
    press(&mut app, Action::Help);
    let text = format!("{}", screen(&app, 80, 34).backend());
    for b in KEYMAP.iter().filter(|b| b.action != Action::Open) {
        assert!(text.contains(b.help), "user view help shows '{}'", b.help);
    }
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
        "unknown command ':pods' (try :accounts :users :keys :findings :journal)"
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
    press(&mut app, Action::Key(KeyAction::Deactivate));
    insta::assert_snapshot!("confirm_deactivate", screen(&app, 90, 24).backend());
    assert!(
        app.on_key(KeyEvent::from(KeyCode::Enter)).is_none(),
        "Enter on Cancel cancels"
    );
    assert!(!app.write.is_open());
    press(&mut app, Action::Key(KeyAction::Deactivate));
    app.on_key(KeyEvent::from(KeyCode::Tab));
    let r = write_request(app.on_key(KeyEvent::from(KeyCode::Enter)));
    assert_eq!(
        (r.action, r.user.as_str(), r.key.as_str(), r.status),
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
    press(&mut app, Action::Key(KeyAction::Delete));
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
    press(&mut app, Action::Key(KeyAction::Delete));
    type_text(&mut app, "9999");
    app.on_key(KeyEvent::from(KeyCode::Tab));
    assert!(app.on_key(KeyEvent::from(KeyCode::Enter)).is_none());
    assert!(matches!(app.write.step(), Step::Confirm(_)));
}

#[test]
fn a_write_result_updates_keys_and_findings_without_rescan() {
    let mut app = at_key(true, "ci-deploy", "AKIAOLD0000000000001");
    press(&mut app, Action::Key(KeyAction::Deactivate));
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
    press(&mut app, Action::Key(KeyAction::Deactivate));
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

#[test]
fn rotation_shows_the_secret_once_then_offers_to_deactivate_the_old_key() {
    let mut app = at_key(true, "ci-deploy", "AKIAOLD0000000000001");
    press(&mut app, Action::Key(KeyAction::Rotate));
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
    let Some(Effect::SaveSecret { path, profile, key }) = app.on_key(KeyEvent::from(KeyCode::Enter)) else {
        panic!()
    };
    assert_eq!(
        (path.as_str(), profile.as_str()),
        ("./ci-deploy-AKIANEW0000000000001.credentials", "ci-deploy")
    );
    drop(key);
    app.on_write_event(WriteEvent::Saved(Ok(path)));
    app.on_key(KeyEvent::from(KeyCode::Esc));
    let Step::DeactivateOld(c) = app.write.step() else {
        panic!("{:?}", app.write)
    };
    assert_eq!(
        (c.request.action, c.request.key.as_str(), c.cancel_label),
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
    press(&mut app, Action::Key(KeyAction::Rotate));
    let request = write_request(app.on_key(KeyEvent::from(KeyCode::Char('y'))));
    app.on_write_event(WriteEvent::Rotated {
        request,
        result: Ok((new_key(), None)),
    });
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
    press(&mut app, Action::Key(KeyAction::Rotate));
    let request = write_request(app.on_key(KeyEvent::from(KeyCode::Char('y'))));
    let quota = RemediateError::QuotaFull {
        user: "bob".into(),
        inactive: Some(AccessKeyId("AKIABOB0000000000002".into())),
    };
    app.on_write_event(WriteEvent::Rotated {
        request,
        result: Err(quota),
    });
    insta::assert_snapshot!("quota_full_delete_first", screen(&app, 90, 24).backend());
    let delete = write_request(app.on_key(KeyEvent::from(KeyCode::Char('y'))));
    assert_eq!(
        (delete.action, delete.key.as_str()),
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
            request_id: None,
        }),
    });
    let rotate = write_request(next);
    assert_eq!(
        (rotate.action, rotate.key.as_str()),
        (KeyAction::Rotate, "AKIABOB0000000000001")
    );
}

#[test]
fn dialogs_render_at_tiny_sizes() {
    let mut app = at_key(true, "ci-deploy", "AKIAOLD0000000000001");
    press(&mut app, Action::Key(KeyAction::Delete));
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
    press(&mut app, Action::Key(KeyAction::Deactivate));
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
    press(&mut app, Action::Key(KeyAction::Rotate));
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
    assert!(text.contains("open a user or :keys"), "{text}");
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
                app.view_select(&RowId::User(a.clone(), u.clone()));
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
    let text = format!("{}", screen(&app, 80, 40).backend());
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
