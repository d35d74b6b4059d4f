//! The journal: an append-only record of every write action, one JSON object per line in
//! `journal.jsonl` in the data directory (`~/.local/share/keytriage/` on Linux).
//!
//! Each action writes two lines sharing an `action_id`: the **intent**, flushed and synced to
//! disk before the AWS call, and the **outcome** after it. An intent without an outcome is an
//! action that was interrupted (crash, `kill -9`): [`unfinished`] finds them. The journal never
//! holds a secret: entries have no field for one.

use crate::model::{AccessKeyId, AccountId, KeyAction, Timestamp};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Which line of an action this is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// Written (and synced) before the AWS call.
    Intent,
    /// Written after it.
    Outcome,
}

/// How an action ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ActionResult {
    /// AWS accepted it.
    Ok,
    /// AWS refused it or could not be reached (see `error_code`).
    Failed,
    /// No answer from AWS (connection lost, timeout, 5xx) to a call that may have taken
    /// effect; the user's keys were re-read and `message` says what is true now (a new key's
    /// id, a deleted key's absence) and what to do.
    Unknown,
    /// Not made: a target of a batch whose live pre-check found it changed, gone, or used
    /// since the operator confirmed; `message` says which.
    Skipped,
    /// Found without an outcome at a later start (a crash or kill between intent and
    /// outcome); `message` has the key's state as read then.
    Interrupted,
}

/// One line of the journal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// When this line was written (UTC).
    pub time: Timestamp,
    /// Shared by the intent and the outcome of one action.
    pub action_id: String,
    /// Intent or outcome.
    pub phase: Phase,
    /// The caller's ARN (`sts:GetCallerIdentity`).
    pub operator: String,
    /// Account of the key.
    pub account_id: AccountId,
    /// IAM user.
    pub user: String,
    /// The key acted on; for `create`, the new key (in the outcome; `null` in the intent).
    pub access_key_id: Option<AccessKeyId>,
    /// What was done (`create` for a rotation's `CreateAccessKey`).
    pub action: KeyAction,
    /// Outcome lines only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<ActionResult>,
    /// AWS's request id of the call (outcome lines).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// AWS's error code when it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    /// A short description of the failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The batch this action belongs to (a bulk action on marked keys: every intent and
    /// outcome of it shares this id); absent for a single write.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_id: Option<String>,
}

/// The journal file.
#[derive(Clone, Debug)]
pub struct Journal {
    path: PathBuf,
}

/// The journal could not be written or read.
#[derive(Debug, thiserror::Error)]
#[error("journal {path}: {source}")]
pub struct JournalError {
    /// The file.
    pub path: PathBuf,
    /// Why.
    #[source]
    pub source: std::io::Error,
}

impl Journal {
    /// The journal at `path` (created on first write, with its directory).
    pub fn at(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// `<data dir>/journal.jsonl`, or `KEYTRIAGE_JOURNAL` when set.
    pub fn default_path() -> Option<PathBuf> {
        if let Some(p) = std::env::var_os("KEYTRIAGE_JOURNAL") {
            return Some(PathBuf::from(p));
        }
        directories::ProjectDirs::from("", "", "keytriage").map(|d| d.data_local_dir().join("journal.jsonl"))
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one line and syncs it to disk before returning.
    ///
    /// # Errors
    /// [`JournalError`]; callers must not make the AWS call when the intent cannot be written.
    pub fn append(&self, entry: &Entry) -> std::result::Result<(), JournalError> {
        let err = |source| JournalError {
            path: self.path.clone(),
            source,
        };
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(err)?;
        }
        let mut line = serde_json::to_vec(entry).map_err(|e| err(e.into()))?;
        line.push(b'\n');
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(&self.path)
            .map_err(err)?;
        // A crash mid-write leaves a torn last line: start on a fresh line so this entry
        // stays readable (the torn one is skipped by `read`).
        if ends_without_newline(&mut file).map_err(err)? {
            line.insert(0, b'\n');
        }
        file.write_all(&line).map_err(err)?;
        file.sync_data().map_err(err)
    }

    /// Every readable line, oldest first. A missing file is an empty journal; unreadable lines
    /// (a torn last line after a crash) are skipped.
    ///
    /// # Errors
    /// [`JournalError`] when the file exists but cannot be read.
    pub fn read(&self) -> std::result::Result<Vec<Entry>, JournalError> {
        match std::fs::read_to_string(&self.path) {
            Ok(text) => Ok(text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(source) => Err(JournalError {
                path: self.path.clone(),
                source,
            }),
        }
    }
}

fn ends_without_newline(file: &mut std::fs::File) -> std::io::Result<bool> {
    use std::io::{Read, Seek, SeekFrom};
    if file.metadata()?.len() == 0 {
        return Ok(false);
    }
    file.seek(SeekFrom::End(-1))?;
    let mut last = [0u8; 1];
    file.read_exact(&mut last)?;
    Ok(last[0] != b'\n')
}

/// Intents without an outcome: actions interrupted between the intent and the outcome.
pub fn unfinished(entries: &[Entry]) -> Vec<&Entry> {
    entries
        .iter()
        .filter(|e| e.phase == Phase::Intent)
        .filter(|i| {
            !entries
                .iter()
                .any(|o| o.phase == Phase::Outcome && o.action_id == i.action_id)
        })
        .collect()
}

/// A new action id: time and process plus a counter, unique enough for one journal.
pub fn new_action_id(now: Timestamp) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{}-{}-{}",
        now.format("%Y%m%dT%H%M%S%.3fZ"),
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str, phase: Phase) -> Entry {
        Entry {
            time: chrono::Utc::now(),
            action_id: id.into(),
            phase,
            operator: "arn:aws:iam::111111111111:user/op".into(),
            account_id: AccountId::parse("111111111111").unwrap(),
            user: "alice".into(),
            access_key_id: Some(AccessKeyId("AKIA1".into())),
            action: KeyAction::Deactivate,
            result: (phase == Phase::Outcome).then_some(ActionResult::Ok),
            request_id: None,
            error_code: None,
            message: None,
            batch_id: None,
        }
    }

    #[test]
    fn appends_reads_and_finds_unfinished() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::at(dir.path().join("sub/journal.jsonl"));
        assert!(j.read().unwrap().is_empty());
        j.append(&entry("a", Phase::Intent)).unwrap();
        j.append(&entry("a", Phase::Outcome)).unwrap();
        j.append(&entry("b", Phase::Intent)).unwrap();
        // A torn last line, as after a crash mid-write.
        std::fs::OpenOptions::new()
            .append(true)
            .open(j.path())
            .unwrap()
            .write_all(b"{\"time\":")
            .unwrap();
        let all = j.read().unwrap();
        assert_eq!(all.len(), 3);
        assert_eq!(
            unfinished(&all)
                .iter()
                .map(|e| e.action_id.as_str())
                .collect::<Vec<_>>(),
            ["b"]
        );
        // The next entry after the torn line is not glued to it.
        j.append(&entry("c", Phase::Intent)).unwrap();
        let all = j.read().unwrap();
        assert_eq!(
            all.iter().map(|e| e.action_id.as_str()).collect::<Vec<_>>(),
            ["a", "a", "b", "c"]
        );
    }

    #[test]
    fn lines_are_json_with_the_contract_fields() {
        let line = serde_json::to_string(&entry("a", Phase::Outcome)).unwrap();
        assert!(line.starts_with("{\"time\":"));
        for field in [
            "\"action_id\":\"a\"",
            "\"phase\":\"outcome\"",
            "\"action\":\"deactivate\"",
            "\"result\":\"ok\"",
        ] {
            assert!(line.contains(field), "{line}");
        }
    }
}
