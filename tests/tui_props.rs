//! Property test of the TUI state: random key sequences (including inside dialogs, filters and
//! commands) mixed with scan events and write results arriving at random times, rendered at
//! random sizes down to 1×1. It must never panic, and its invariants hold after every step.

mod fixture;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use keytriage::audit::Policy;
use keytriage::model::{AccountId, ScanPhase};
use keytriage::remediate::{Done, RemediateError};
use keytriage::scan::ScanEvent;
use keytriage::tui::app::{App, Effect, WriteEvent};
use keytriage::tui::render;
use keytriage::tui::theme::Theme;
use proptest::prelude::*;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

#[derive(Clone, Debug)]
enum Step {
    Key(KeyCode, bool),
    Scan(usize),
    Progress(usize),
    WriteOk,
    WriteErr,
    Size(u16, u16),
}

fn key_code() -> impl Strategy<Value = KeyCode> {
    prop_oneof![
        prop::sample::select(vec![
            'j', 'k', 'g', 'G', '/', ':', 's', 'S', '<', '>', 'R', '?', 'q', 'd', 'a', 'r', 'x', 'y', 'n', 'u', 'f',
            'e', '0', 'i'
        ])
        .prop_map(KeyCode::Char),
        prop::sample::select(vec![
            KeyCode::Enter,
            KeyCode::Esc,
            KeyCode::Tab,
            KeyCode::Backspace,
            KeyCode::Up,
            KeyCode::Down,
            KeyCode::PageUp,
            KeyCode::PageDown,
            KeyCode::Home,
            KeyCode::End,
        ]),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        8 => (key_code(), prop::bool::weighted(0.05)).prop_map(|(k, c)| Step::Key(k, c)),
        1 => (0usize..5).prop_map(Step::Scan),
        1 => (0usize..4).prop_map(Step::Progress),
        1 => Just(Step::WriteOk),
        1 => Just(Step::WriteErr),
        1 => (1u16..130, 1u16..45).prop_map(|(w, h)| Step::Size(w, h)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn random_sessions_never_panic_and_keep_invariants(steps in prop::collection::vec(step(), 1..120)) {
        let events = fixture::events();
        let mut app = App::new(Policy::default(), fixture::now(), "op".into(), true);
        app.on_scan_event(events[0].clone());
        let mut pending = Vec::new();
        let (mut w, mut h) = (100u16, 30u16);
        for step in steps {
            match step {
                Step::Key(code, ctrl) => {
                    let mods = if ctrl { KeyModifiers::CONTROL } else { KeyModifiers::NONE };
                    match app.on_key(KeyEvent::new(code, mods)) {
                        Some(Effect::Write(r)) => pending.push(r),
                        Some(Effect::Quit) => break,
                        _ => {}
                    }
                }
                Step::Scan(i) => app.on_scan_event(events[i % events.len()].clone()),
                Step::Progress(i) => {
                    let ids = ["111111111111", "222222222222", "333333333333", "444444444444"];
                    let account_id = AccountId::parse(ids[i]).unwrap();
                    app.on_scan_event(ScanEvent::Progress { scan_id: keytriage::tui::store::Store::SCAN_ID, account_id, phase: ScanPhase::ReadingUsers { done: 1, total: 3 } });
                }
                Step::WriteOk => if let Some(request) = pending.pop() {
                    let keys = app.store.entry(&request.account.id).and_then(|e| e.scan.as_ref())
                        .and_then(|s| s.users.iter().find(|u| u.name == request.user)).map(|u| u.access_keys.clone());
                    if let Some(Effect::Write(r)) = app.on_write_event(WriteEvent::Applied { request, result: Ok(Done { keys, credentials: None, password_enabled: None, request_id: None }) }) {
                        pending.push(r);
                    }
                },
                Step::WriteErr => if let Some(request) = pending.pop() {
                    app.on_write_event(WriteEvent::Applied { request, result: Err(RemediateError::ReadOnly) });
                },
                Step::Size(nw, nh) => (w, h) = (nw, nh),
            }
            app.refresh();
            let area = Rect::new(0, 0, w, h);
            let mut buf = Buffer::empty(area);
            render::render(&app, &Theme::default(), area, &mut buf);

            prop_assert!(!app.stack.is_empty());
            let (shown, total) = app.view().table.counts();
            prop_assert!(shown <= total);
            let sel = app.view().table.selected_index();
            prop_assert!(sel < shown.max(1), "selection {} of {} rows", sel, shown);
            prop_assert_eq!(app.view().table.selected_row().is_some(), shown > 0);
        }
    }
}
