//! The write flow: every step of a write on an access key, from the confirmation to the
//! result, as one state machine. [`Step`] names the steps; [`WriteFlow::transition`] is the
//! one place that says what follows each (a key in a dialog, a write's result, a saved
//! secret). The flow owns the open dialog; [`super::app::App`] forwards keys and write events
//! to it while it is open, applies its [`Reaction`] (effects for the loop, a footer message,
//! the user's keys as re-read) and draws it on top.
//!
//! A rotation: `Confirm` → `Writing` (create) → `ShowSecret` → `DeactivateOld` → `Writing`
//! (deactivate). At the two-key limit: `Writing` (create) → `DeleteInactiveFirst` →
//! `Writing` (delete, then create) → `ShowSecret`… A key used since the operator confirmed:
//! `Writing` → `Reconfirm` (with the live last use) → `Writing`.

use super::app::{Effect, Flash};
use super::dialog::{self, Confirm, DialogOutcome, ShowSecret};
use super::store::Store;
use super::theme::Theme;
use crate::aws::remediate::NewKey;
use crate::model::{AccessKey, AccessKeyId, AccountId, KeyAction, Timestamp};
use crate::remediate::{Done, RemediateError, WriteRequest, last_use_utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::Line;
use std::sync::Arc;

/// The step the write flow is at.
#[derive(Debug, Default)]
pub enum Step {
    /// No write under way; no dialog.
    #[default]
    Idle,
    /// Asking before a write (Cancel focused).
    Confirm(Confirm),
    /// The key was used since the operator confirmed (read live just before the write):
    /// asking again, with the live last use. Nothing was written.
    Reconfirm {
        /// The confirmation, built from the key as read live.
        confirm: Confirm,
        /// The rotation to continue after this write, as in [`Step::Writing`].
        then_rotate: Option<AccessKeyId>,
    },
    /// A rotation found the user at the two-key limit with an inactive key: asking to
    /// delete that key first; the rotation of `rotate` continues after the delete.
    DeleteInactiveFirst {
        /// The delete's confirmation.
        confirm: Confirm,
        /// The key whose rotation continues.
        rotate: AccessKeyId,
    },
    /// Waiting for AWS.
    Writing {
        /// The write under way.
        request: WriteRequest,
        /// After it succeeds, rotate this key (the delete-the-inactive-key-first path).
        then_rotate: Option<AccessKeyId>,
        /// The progress note.
        text: String,
    },
    /// Showing a new secret once.
    ShowSecret(ShowSecret),
    /// The secret closed: offering to deactivate the replaced key ("Later" cancels).
    DeactivateOld(Confirm),
    /// A result or an error to acknowledge.
    Message {
        /// Title.
        title: String,
        /// Text (may span lines).
        text: String,
        /// Shown as an error.
        error: bool,
    },
}

/// What the flow asks of the app after a transition.
#[derive(Debug, Default)]
pub struct Reaction {
    /// For the loop to carry out (a write, saving the secret).
    pub effect: Option<Effect>,
    /// A footer message.
    pub flash: Option<Flash>,
    /// A user's keys as re-read after a write: `(account, user, keys)`, to replace in the store.
    pub keys: Option<(AccountId, String, Vec<AccessKey>)>,
}

/// What moves the flow on.
#[derive(Debug)]
pub enum Input {
    /// A dialog's answer to a key.
    Dialog(DialogOutcome),
    /// Ctrl-C: closes a confirmation or a message (never a write in flight, nor the secret).
    Cancel,
    /// Deactivate, activate or delete finished.
    Applied(WriteRequest, Result<Done, RemediateError>),
    /// The create step of a rotation finished: the new key and the user's keys re-read.
    Rotated(
        WriteRequest,
        Result<(Arc<NewKey>, Option<Vec<AccessKey>>), RemediateError>,
    ),
    /// The secret file was written (its path), or not (why).
    Saved(Result<String, String>),
    /// The background task of a write died without reporting (a bug).
    TaskFailed(String),
}

/// The write flow's state.
#[derive(Debug, Default)]
pub struct WriteFlow {
    step: Step,
}

fn message(title: impl Into<String>, text: impl Into<String>, error: bool) -> Step {
    Step::Message {
        title: title.into(),
        text: text.into(),
        error,
    }
}

fn writing(request: WriteRequest, then_rotate: Option<AccessKeyId>) -> (Step, Reaction) {
    let text = format!(
        "{} {} of {} in {}… (checking the key live first)",
        request.action.ing(),
        request.key,
        request.user,
        request.account.name
    );
    let effect = Some(Effect::Write(request.clone()));
    (
        Step::Writing {
            request,
            then_rotate,
            text,
        },
        Reaction {
            effect,
            ..Reaction::default()
        },
    )
}

fn keys_of(request: &WriteRequest, keys: Option<Vec<AccessKey>>) -> Option<(AccountId, String, Vec<AccessKey>)> {
    keys.map(|k| (request.account.id.clone(), request.user.clone(), k))
}

impl WriteFlow {
    /// The current step.
    pub fn step(&self) -> &Step {
        &self.step
    }

    /// True when a dialog is open (any step but [`Step::Idle`]).
    pub fn is_open(&self) -> bool {
        !matches!(self.step, Step::Idle)
    }

    /// True while a write is under way.
    pub fn is_writing(&self) -> bool {
        matches!(self.step, Step::Writing { .. })
    }

    /// Opens the confirmation of a write (the app has checked that it can be made).
    pub fn confirm(&mut self, confirm: Confirm) {
        self.step = Step::Confirm(confirm);
    }

    /// Opens a message.
    pub fn message(&mut self, title: &str, text: String, error: bool) {
        self.step = message(title, text, error);
    }

    /// Handles a key while a dialog is open.
    pub fn on_key(&mut self, key: KeyEvent, store: &Store, now: Timestamp) -> Reaction {
        if key.modifiers.contains(KeyModifiers::CONTROL) {
            match (key.code, &mut self.step) {
                (KeyCode::Char('u'), Step::ShowSecret(s)) if s.saved.is_none() => s.path.clear(),
                (KeyCode::Char('c'), _) => return self.transition(Input::Cancel, store, now),
                _ => {}
            }
            return Reaction::default();
        }
        let outcome = match &mut self.step {
            Step::Confirm(c)
            | Step::Reconfirm { confirm: c, .. }
            | Step::DeleteInactiveFirst { confirm: c, .. }
            | Step::DeactivateOld(c) => c.on_key(key),
            Step::ShowSecret(s) => s.on_key(key),
            Step::Message { .. } => dialog::message_key(key),
            Step::Writing { .. } | Step::Idle => DialogOutcome::Stay,
        };
        self.transition(Input::Dialog(outcome), store, now)
    }

    /// Every transition of the flow. `store` has the scanned keys (for the follow-up
    /// confirmations of a rotation); `now` dates the confirmations.
    pub fn transition(&mut self, input: Input, store: &Store, now: Timestamp) -> Reaction {
        use DialogOutcome as D;
        let none = Reaction::default;
        let (next, reaction) = match (std::mem::take(&mut self.step), input) {
            (step, Input::Dialog(D::Stay)) => (step, none()),

            // Confirmations.
            (Step::Confirm(_) | Step::DeactivateOld(_), Input::Dialog(D::Confirmed(request))) => {
                writing(*request, None)
            }
            (Step::Reconfirm { then_rotate, .. }, Input::Dialog(D::Confirmed(request))) => {
                writing(*request, then_rotate)
            }
            (Step::DeleteInactiveFirst { rotate, .. }, Input::Dialog(D::Confirmed(request))) => {
                writing(*request, Some(rotate))
            }
            // Closing says what happened (nothing), so no key goes unanswered.
            (Step::DeactivateOld(c), Input::Dialog(D::Close) | Input::Cancel) => (
                Step::Idle,
                Reaction {
                    flash: Some(Flash {
                        text: format!(
                            "later: {} stays active; deactivate it once every application uses the new key",
                            c.request.key
                        ),
                        error: false,
                    }),
                    ..none()
                },
            ),
            (
                Step::Confirm(c) | Step::Reconfirm { confirm: c, .. } | Step::DeleteInactiveFirst { confirm: c, .. },
                Input::Dialog(D::Close) | Input::Cancel,
            ) => (
                Step::Idle,
                Reaction {
                    flash: Some(Flash {
                        text: format!(
                            "cancelled: did not {} {}; nothing was changed",
                            c.request.action.verb(),
                            c.request.key
                        ),
                        error: false,
                    }),
                    ..none()
                },
            ),
            (Step::Message { .. }, Input::Dialog(D::Close) | Input::Cancel) => (Step::Idle, none()),

            // Results of deactivate, activate, delete.
            (step, Input::Applied(request, Ok(done))) => {
                let then_rotate = match step {
                    Step::Writing { then_rotate, .. } => then_rotate,
                    _ => None,
                };
                let rid = done
                    .request_id
                    .as_deref()
                    .map(|r| format!(" (request id {r})"))
                    .unwrap_or_default();
                let reread = if done.keys.is_some() {
                    ""
                } else {
                    "; re-reading the keys failed: rescan with R"
                };
                let flash = Some(Flash {
                    text: format!(
                        "{} {} of {} in {}{rid}{reread}",
                        request.action.ed(),
                        request.key,
                        request.user,
                        request.account.name
                    ),
                    error: false,
                });
                let keys = keys_of(&request, done.keys);
                let (next, mut reaction) = match then_rotate {
                    Some(key) => {
                        let mut next = match store.key(&request.account.id, &request.user, &key) {
                            Some(k) => WriteRequest::new(KeyAction::Rotate, &request.account, &request.user, k),
                            None => WriteRequest { key, ..request.clone() },
                        };
                        next.action = KeyAction::Rotate;
                        writing(next, None)
                    }
                    None => (Step::Idle, none()),
                };
                reaction.flash = flash;
                reaction.keys = keys;
                (next, reaction)
            }
            (step, Input::Applied(request, Err(RemediateError::UsedSince { live, seen }))) => {
                let then_rotate = match step {
                    Step::Writing { then_rotate, .. } => then_rotate,
                    _ => None,
                };
                let mut confirm = Confirm::new(request.action, &request.account, &request.user, &live, now);
                if let Some(l) = confirm.lines.last_mut() {
                    l.push_str(" (read live)");
                }
                confirm.warnings.insert(
                    0,
                    format!(
                        "used since you confirmed: last use now {}, you saw {}; nothing was changed: confirm again",
                        last_use_utc(live.last_used.as_ref()),
                        last_use_utc(seen.as_ref())
                    ),
                );
                (Step::Reconfirm { confirm, then_rotate }, none())
            }
            (_, Input::Applied(request, Err(e))) => {
                let keys = match &e {
                    RemediateError::Unknown { keys, .. } => keys_of(&request, keys.clone()),
                    _ => None,
                };
                let title = match &e {
                    RemediateError::Unknown { .. } => format!("{}: outcome unknown", request.action.label()),
                    _ => format!("{} failed", request.action.label()),
                };
                (message(title, e.to_string(), true), Reaction { keys, ..none() })
            }

            // Results of a rotation's create.
            (_, Input::Rotated(request, Ok((key, keys)))) => {
                let d = ShowSecret::new(
                    key,
                    request.account.clone(),
                    request.user.clone(),
                    Some(request.key.clone()),
                );
                (
                    Step::ShowSecret(d),
                    Reaction {
                        keys: keys_of(&request, keys),
                        ..none()
                    },
                )
            }
            (
                _,
                Input::Rotated(
                    request,
                    Err(RemediateError::QuotaFull {
                        user,
                        inactive: Some(old),
                    }),
                ),
            ) => match store.key(&request.account.id, &user, &old) {
                Some(k) => {
                    let mut confirm = Confirm::new(KeyAction::Delete, &request.account, &user, k, now);
                    confirm.warnings.push(format!(
                        "{user} already has two keys (the IAM limit): delete this inactive key first, then the rotation continues"
                    ));
                    (
                        Step::DeleteInactiveFirst {
                            confirm,
                            rotate: request.key,
                        },
                        none(),
                    )
                }
                None => (
                    message("Rotate", format!("{user} already has two keys; rescan with R"), true),
                    none(),
                ),
            },
            (_, Input::Rotated(_, Err(e @ RemediateError::QuotaFull { .. }))) => (
                message(
                    "Rotate",
                    format!("{e}: both are active; deactivate and delete one before rotating"),
                    true,
                ),
                none(),
            ),
            (_, Input::Rotated(request, Err(e @ RemediateError::Unknown { .. }))) => {
                let keys = match &e {
                    RemediateError::Unknown { keys, .. } => keys_of(&request, keys.clone()),
                    _ => None,
                };
                (
                    message("Rotate: outcome unknown", e.to_string(), true),
                    Reaction { keys, ..none() },
                )
            }
            (_, Input::Rotated(_, Err(e))) => (message("Rotate failed", e.to_string(), true), none()),

            // The secret.
            (Step::ShowSecret(s), Input::Dialog(D::Save(path))) => {
                let effect = Some(Effect::SaveSecret {
                    path,
                    profile: s.user.clone(),
                    key: s.key.clone(),
                });
                (Step::ShowSecret(s), Reaction { effect, ..none() })
            }
            (Step::ShowSecret(mut s), Input::Saved(result)) => {
                match result {
                    Ok(path) => {
                        s.saved = Some(path);
                        s.note = None;
                    }
                    Err(e) => s.note = Some(e),
                }
                (Step::ShowSecret(s), none())
            }
            (Step::ShowSecret(s), Input::Dialog(D::SecretClosed)) => {
                let old = s
                    .old_key
                    .as_ref()
                    .and_then(|k| store.key(&s.account.id, &s.user, k))
                    .filter(|k| k.is_active());
                match old {
                    Some(k) => {
                        let mut c = Confirm::new(KeyAction::Deactivate, &s.account, &s.user, k, now);
                        c.warnings.push(
                            "the old key: deactivate it now, or later once every application uses the new one".into(),
                        );
                        c.cancel_label = "Later";
                        (Step::DeactivateOld(c), none())
                    }
                    None => (Step::Idle, none()),
                }
            }

            (Step::Writing { .. }, Input::TaskFailed(what)) => (
                message(
                    "internal error",
                    format!("the action stopped unexpectedly ({what}); check :journal and rescan with R"),
                    true,
                ),
                none(),
            ),

            // Anything else (a late event, a key with no meaning here) changes nothing.
            (step, _) => (step, none()),
        };
        self.step = next;
        reaction
    }

    /// Draws the open dialog (nothing when idle) centred in `area`.
    pub fn render(&self, area: Rect, buf: &mut Buffer, theme: &Theme) {
        let (title, lines): (String, Vec<Line>) = match &self.step {
            Step::Idle => return,
            Step::Confirm(c)
            | Step::Reconfirm { confirm: c, .. }
            | Step::DeleteInactiveFirst { confirm: c, .. }
            | Step::DeactivateOld(c) => (
                format!(" {} access key? ", c.request.action.label()),
                dialog::confirm_lines(c, theme),
            ),
            Step::Writing { text, .. } => (" working ".into(), vec![Line::from(text.clone())]),
            Step::ShowSecret(s) => (
                format!(" new access key for {} — shown once ", s.user),
                dialog::secret_lines(s, theme),
            ),
            Step::Message { title, text, error } => (format!(" {title} "), dialog::message_lines(text, *error, theme)),
        };
        dialog::popup(&title, lines, area, buf, theme);
    }
}
