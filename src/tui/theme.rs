//! Styles. Colour carries severity, but every state is also written out in text, so the
//! screen reads the same with `NO_COLOR` set (then only bold and reverse are used).

use crate::audit::Severity;
use ratatui::style::{Color, Modifier, Style};

/// The palette, with or without colour.
#[derive(Clone, Copy, Debug, Default)]
pub struct Theme {
    /// No colours at all (`NO_COLOR`).
    pub no_color: bool,
}

impl Theme {
    /// Honours `NO_COLOR` (any non-empty value).
    pub fn from_env() -> Self {
        Self {
            no_color: std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()),
        }
    }

    fn fg(&self, c: Color) -> Style {
        if self.no_color {
            Style::default()
        } else {
            Style::default().fg(c)
        }
    }

    /// A row's style from its worst severity, or grey when dimmed.
    pub fn row(&self, severity: Option<Severity>, dim: bool) -> Style {
        if dim {
            return self.fg(Color::DarkGray);
        }
        match severity {
            Some(s) => self.severity(s),
            None => Style::default(),
        }
    }

    /// The colour of a severity (critical is bold too).
    pub fn severity(&self, s: Severity) -> Style {
        match s {
            Severity::Critical => self.fg(Color::Red).add_modifier(Modifier::BOLD),
            Severity::High => self.fg(Color::LightRed),
            Severity::Medium => self.fg(Color::Yellow),
            Severity::Low => self.fg(Color::Cyan),
            Severity::Info => Style::default(),
        }
    }

    /// The selected row.
    pub fn selected(&self) -> Style {
        Style::default().add_modifier(Modifier::REVERSED)
    }

    /// Table headers.
    pub fn header(&self) -> Style {
        Style::default().add_modifier(Modifier::BOLD)
    }

    /// Borders.
    pub fn border(&self) -> Style {
        self.fg(Color::DarkGray)
    }

    /// Emphasis (titles, the mode badge).
    pub fn accent(&self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }

    /// Errors and warnings.
    pub fn error(&self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }

    /// Secondary text.
    pub fn muted(&self) -> Style {
        self.fg(Color::Gray)
    }
}
