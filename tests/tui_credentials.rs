//! The TUI with every kind of credential: a user's one credentials table (console password,
//! access keys, SSH key, signing certificate, Bedrock API key) with their findings, the
//! `:credentials` view, and the write flow on an SSH key and on the console password
//! (live read, confirmation, write, re-read into the store), on a fixed model and clock.

use chrono::Duration;
use crossterm::event::{KeyCode, KeyEvent};
use keytriage::audit::Policy;
use keytriage::model::*;
use keytriage::remediate::{Done, Live};
use keytriage::scan::ScanEvent;
use keytriage::tui::app::{App, Effect, WriteEvent};
use keytriage::tui::keymap::{Action, KEYMAP};
use keytriage::tui::render;
use keytriage::tui::table::RowId;
use keytriage::tui::theme::Theme;
use keytriage::tui::views::ViewKind;
use keytriage::tui::write_flow::Step;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

mod fixture;

use fixture::{events, now};

fn prod() -> AccountId {
    AccountId::parse("111111111111").unwrap()
}

fn credential(kind: CredentialKind, id: &str, age: i64, expires_in: Option<i64>, service: Option<&str>) -> Credential {
    Credential {
        kind,
        id: id.into(),
        status: CredentialStatus::Active,
        created: now() - Duration::days(age),
        expires: expires_in.map(|d| now() + Duration::days(d)),
        service: service.map(str::to_owned),
    }
}

fn ssh() -> Credential {
    credential(CredentialKind::SshPublicKey, "APKAALICE00000000001", 400, None, None)
}

fn cert() -> Credential {
    credential(
        CredentialKind::SigningCertificate,
        "CERTALICE0000000000000000000001",
        300,
        Some(12),
        None,
    )
}

fn bedrock() -> Credential {
    credential(
        CredentialKind::ServiceSpecific,
        "ACCAALICE00000000001",
        20,
        None,
        Some("bedrock.amazonaws.com"),
    )
}

/// The fixture organization, where alice (console password used yesterday, no MFA) also has
/// an old SSH key, a signing certificate expiring in 12 days and a Bedrock API key.
fn app(write: bool) -> App {
    let events = events().into_iter().map(|mut e| {
        if let ScanEvent::AccountDone { scan, .. } = &mut e
            && let Some(alice) = scan.users.iter_mut().find(|u| u.name == "alice")
        {
            alice.credentials = vec![ssh(), cert(), bedrock()];
        }
        e
    });
    fixture::app_of(events, write)
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

fn screen(app: &App, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| render::draw(app, &Theme { no_color: true }, f)).unwrap();
    t
}

/// alice's user view, with `row` selected.
fn at_alice(write: bool, row: RowId) -> App {
    let mut app = app(write);
    press(&mut app, Action::Open);
    app.view_select(&RowId::User(prod(), "alice".into()));
    press(&mut app, Action::Open);
    assert_eq!(app.view().kind, ViewKind::User(prod(), "alice".into()));
    app.view_select(&row);
    assert_eq!(app.view().table.selected_row().map(|r| &r.id), Some(&row));
    app
}

fn ssh_row() -> RowId {
    RowId::Credential(prod(), "alice".into(), ssh().reference())
}

/// The cells of every row of the current view, as text.
fn cells(app: &App) -> Vec<Vec<String>> {
    app.view()
        .table
        .shown()
        .map(|r| r.cells.iter().map(|c| c.to_string()).collect())
        .collect()
}

#[test]
fn a_users_view_lists_every_credential_kind_with_its_findings() {
    let app = at_alice(false, ssh_row());
    assert_eq!(
        cells(&app),
        [
            [
                "password",
                "console",
                "enabled",
                "-",
                "used 1d ago",
                "console-without-mfa"
            ],
            [
                "SSH key",
                "APKAALICE00000000001",
                "Active",
                "400d",
                "no last use",
                "ssh-key-not-rotated"
            ],
            [
                "cert",
                "CERTALICE0000000000000000000001",
                "Active",
                "300d",
                "expires in 12d",
                "certificate-expiring certificate-not-rotated"
            ],
            [
                "Bedrock",
                "ACCAALICE00000000001",
                "Active",
                "20d",
                "never expires",
                "bedrock-long-term-key service-credential-long-lived"
            ],
        ]
    );
    insta::assert_snapshot!(screen(&app, 110, 24).backend());
}

#[test]
fn the_credentials_view_lists_every_kind_of_every_user() {
    let mut app = app(false);
    press(&mut app, Action::Command);
    for c in "credentials".chars() {
        app.on_key(KeyEvent::from(KeyCode::Char(c)));
    }
    app.on_key(KeyEvent::from(KeyCode::Enter));
    app.refresh();
    assert_eq!(app.view().kind, ViewKind::Credentials);
    let mut kinds: Vec<(String, String)> = cells(&app).into_iter().map(|r| (r[1].clone(), r[2].clone())).collect();
    kinds.sort();
    assert_eq!(
        kinds,
        [
            ("alice", "Bedrock"),
            ("alice", "SSH key"),
            ("alice", "cert"),
            ("alice", "password"),
            ("bob", "access key"),
            ("bob", "access key"),
            ("bob", "password"),
            ("ci-deploy", "access key"),
        ]
        .map(|(u, k)| (u.to_owned(), k.to_owned()))
    );
    // `:keys` stays access keys only.
    assert_eq!(ViewKind::Keys.rows(&app.store, &app.policy, app.now).len(), 3);
}

/// Answers the live read the effect asks for with `live`.
fn answer(app: &mut App, effect: Option<Effect>, live: Live) -> keytriage::remediate::WriteRequest {
    let Some(Effect::ReadKey(request)) = effect else {
        panic!("expected a live read, got {effect:?}")
    };
    assert!(
        app.on_write_event(WriteEvent::KeyRead {
            request: request.clone(),
            result: Ok(live),
        })
        .is_none()
    );
    request
}

#[test]
fn an_ssh_key_is_deactivated_from_the_users_view_after_a_live_read_and_a_confirmation() {
    let mut app = at_alice(true, ssh_row());
    let effect = press(&mut app, Action::Key(KeyAction::Deactivate));
    let request = answer(&mut app, effect, Live::Credential(ssh()));
    assert_eq!(request.target, Target::Credential(ssh().reference()));
    assert!(matches!(app.write.step(), Step::Confirm(_)), "{:?}", app.write.step());
    insta::assert_snapshot!("confirm_deactivate_ssh_key", screen(&app, 100, 24).backend());

    let write = app.on_key(KeyEvent::from(KeyCode::Char('y')));
    let Some(Effect::Write(w)) = write else {
        panic!("expected a write, got {write:?}")
    };
    assert_eq!(
        (w.action, &w.target, w.status),
        (
            KeyAction::Deactivate,
            &Target::Credential(ssh().reference()),
            KeyStatus::Active
        )
    );

    // The re-read comes back: the row and its findings change without a rescan.
    let mut inactive = ssh();
    inactive.status = CredentialStatus::Inactive;
    app.on_write_event(WriteEvent::Applied {
        request: w,
        result: Ok(Done {
            keys: None,
            credentials: Some(vec![inactive]),
            password_enabled: None,
            request_id: Some("req-ssh".into()),
        }),
    });
    app.refresh();
    let row = cells(&app).into_iter().find(|r| r[0] == "SSH key").unwrap();
    assert_eq!((row[2].as_str(), row[5].as_str()), ("Inactive", "inactive-ssh-key"));
    assert_eq!(
        app.flash.as_ref().map(|f| f.text.as_str()),
        Some("deactivated SSH public key APKAALICE00000000001 of alice in prod-payments (request id req-ssh)")
    );
}

#[test]
fn the_certificate_and_the_bedrock_key_are_deactivated_from_the_users_view_too() {
    for c in [cert(), bedrock()] {
        let row = RowId::Credential(prod(), "alice".into(), c.reference());
        let mut app = at_alice(true, row);
        let effect = press(&mut app, Action::Key(KeyAction::Deactivate));
        answer(&mut app, effect, Live::Credential(c.clone()));
        let Some(Effect::Write(w)) = app.on_key(KeyEvent::from(KeyCode::Char('y'))) else {
            panic!("no write for {}", c.id)
        };
        assert_eq!(
            (w.action, w.target),
            (KeyAction::Deactivate, Target::Credential(c.reference()))
        );
    }
}

#[test]
fn disabling_console_access_says_it_cannot_be_undone_and_needs_the_user_name() {
    let mut app = at_alice(true, RowId::Password(prod(), "alice".into()));
    // d on the password row points at the key that works there.
    press(&mut app, Action::Key(KeyAction::Deactivate));
    assert_eq!(
        app.flash.as_ref().map(|f| f.text.as_str()),
        Some("a console password can only be deleted (disable console access); P disables console access")
    );
    let effect = press(&mut app, Action::Key(KeyAction::DisableConsole));
    let request = answer(
        &mut app,
        effect,
        Live::Password {
            last_used: Some(now() - Duration::days(1)),
        },
    );
    assert_eq!(
        (request.action, &request.target),
        (KeyAction::DisableConsole, &Target::ConsolePassword)
    );
    insta::assert_snapshot!("confirm_disable_console", screen(&app, 100, 24).backend());

    // Neither y nor Enter on the button confirm before the name is typed.
    assert!(app.on_key(KeyEvent::from(KeyCode::Tab)).is_none());
    assert!(app.on_key(KeyEvent::from(KeyCode::Enter)).is_none());
    for c in "alic".chars() {
        app.on_key(KeyEvent::from(KeyCode::Char(c)));
    }
    assert!(
        app.on_key(KeyEvent::from(KeyCode::Enter)).is_none(),
        "a part of the name"
    );
    app.on_key(KeyEvent::from(KeyCode::Char('e')));
    let Some(Effect::Write(w)) = app.on_key(KeyEvent::from(KeyCode::Enter)) else {
        panic!("the typed name confirms")
    };
    assert_eq!((w.action, w.user.as_str()), (KeyAction::DisableConsole, "alice"));

    app.on_write_event(WriteEvent::Applied {
        request: w,
        result: Ok(Done {
            keys: None,
            credentials: None,
            password_enabled: Some(false),
            request_id: None,
        }),
    });
    app.refresh();
    assert!(
        cells(&app).iter().all(|r| r[0] != "password"),
        "the password row is gone"
    );
    let alice = app.store.user(&prod(), "alice").unwrap();
    assert!(!alice.password_enabled);
}

#[test]
fn read_only_the_password_key_explains() {
    let mut app = at_alice(false, RowId::Password(prod(), "alice".into()));
    assert!(press(&mut app, Action::Key(KeyAction::DisableConsole)).is_none());
    assert_eq!(
        app.flash.as_ref().map(|f| f.text.as_str()),
        Some("read-only: start keytriage with --write to disable console access (nothing was changed)")
    );
}

#[test]
fn enter_on_a_credential_in_the_credentials_view_opens_its_user_on_that_row() {
    let mut app = app(true);
    press(&mut app, Action::Command);
    for c in "credentials".chars() {
        app.on_key(KeyEvent::from(KeyCode::Char(c)));
    }
    app.on_key(KeyEvent::from(KeyCode::Enter));
    app.refresh();
    app.view_select(&ssh_row());
    press(&mut app, Action::Open);
    assert_eq!(app.view().kind, ViewKind::User(prod(), "alice".into()));
    assert_eq!(app.view().table.selected_row().map(|r| &r.id), Some(&ssh_row()));
    // P on an SSH key says where it works; nothing is read.
    assert!(press(&mut app, Action::Key(KeyAction::DisableConsole)).is_none());
    assert_eq!(
        app.flash.as_ref().map(|f| f.text.as_str()),
        Some(
            "disable console access works on console passwords, not SSH public keys; P works on a console password row"
        )
    );
}

/// A journal line of an SSH key's deactivation and one of disabling console access, as the
/// write flow journals them (no access key id).
fn journal_line(id: &str, action: KeyAction, credential: Option<CredentialRef>) -> keytriage::journal::Entry {
    keytriage::journal::Entry {
        time: now(),
        action_id: id.into(),
        phase: keytriage::journal::Phase::Outcome,
        operator: "arn:aws:iam::111111111111:user/operator".into(),
        account_id: prod(),
        user: "alice".into(),
        access_key_id: None,
        credential,
        action,
        result: Some(keytriage::journal::ActionResult::Ok),
        request_id: Some("req-1".into()),
        error_code: None,
        message: None,
        batch_id: None,
    }
}

#[test]
fn a_journal_lines_detail_names_the_credentials_kind_and_id() {
    // Before: the detail of a journal line showed only "key -" for anything but an access
    // key, so which SSH key (or that it was the console password) was nowhere in it.
    let mut app = app(true);
    app.on_write_event(WriteEvent::Journal(vec![
        journal_line("a-ssh", KeyAction::Deactivate, Some(ssh().reference())),
        journal_line("a-console", KeyAction::DisableConsole, None),
    ]));
    let text = |id: &str| {
        keytriage::tui::detail::build(
            &RowId::Journal(id.into(), false),
            &app.store,
            &Policy::default(),
            now(),
            &Theme { no_color: true },
        )
        .unwrap()
        .text()
    };
    let ssh_text = text("a-ssh");
    assert!(
        ssh_text
            .lines()
            .any(|l| l == "credential SSH public key APKAALICE00000000001"),
        "{ssh_text}"
    );
    assert!(!ssh_text.lines().any(|l| l.starts_with("key ")), "{ssh_text}");
    let console = text("a-console");
    assert!(console.lines().any(|l| l == "credential console password"), "{console}");
}
