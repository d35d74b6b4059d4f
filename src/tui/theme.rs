//! Styles. Colour carries severity, but every state is also written out in text, so the
//! screen reads the same with `NO_COLOR` set (then only bold, reverse and underline are
//! used).

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

    /// A row's style: grey when dimmed, else plain. Severity never colours a whole row
    /// (see [`Theme::severity`] for the badge cells).
    pub fn row(&self, dim: bool) -> Style {
        if dim {
            self.fg(Color::DarkGray)
        } else {
            Style::default()
        }
    }

    /// A severity badge (the severity cell, the row marker, the header counts). Critical
    /// and high differ with colour (white on red vs. red text) and without it (reversed,
    /// bold and underlined vs. bold). Without colour the underline is what tells them apart
    /// on the selected row, which is reversed as a whole.
    pub fn severity(&self, s: Severity) -> Style {
        let bold = Modifier::BOLD;
        match (s, self.no_color) {
            (Severity::Critical, false) => Style::default().fg(Color::White).bg(Color::Red).add_modifier(bold),
            (Severity::Critical, true) => {
                Style::default().add_modifier(bold | Modifier::REVERSED | Modifier::UNDERLINED)
            }
            (Severity::High, false) => Style::default().fg(Color::LightRed).add_modifier(bold),
            (Severity::High, true) => Style::default().add_modifier(bold),
            (Severity::Medium, _) => self.fg(Color::Yellow),
            (Severity::Low, _) => self.fg(Color::Cyan),
            (Severity::Info, _) => Style::default(),
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
