//! A sortable, filterable, virtualised table: the state and rendering shared by every list
//! view. Rows are built by the views (`views.rs`); this module keeps the selection by row
//! identity across refreshes, sorts stably, filters by a case-insensitive substring over the
//! visible cells, drops low-priority columns on narrow screens and draws only visible rows.

use super::theme::Theme;
use crate::audit::Severity;
use crate::model::{AccessKeyId, AccountId};
use compact_str::CompactString;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Flex, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell as TCell, Paragraph, Row as TRow, Table as TTable, Widget, Wrap};
use std::cell::Cell;
use std::cmp::Ordering;
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// What a column holds, which decides how it is sized and cut.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A name or id (account, user, key id, region, service): as wide as its widest value,
    /// never cut while another column has blank room; when it must be cut, the middle goes
    /// (`acme-sa…research`), so two different values stay different.
    Ident,
    /// A number: as wide as its widest value, right-aligned.
    Num,
    /// Long text (detail, findings): shrinks first and takes what room is left.
    Text,
    /// A short word (status, dates): as wide as its widest value (and title), up to its
    /// `max`; never cut (dropped instead on a narrow screen).
    Short,
}

/// A column of a table.
#[derive(Clone, Copy, Debug)]
pub struct Column {
    /// Header text.
    pub title: &'static str,
    /// Narrowest useful width, in cells (never more than the widest value needs); a
    /// [`Kind::Short`] column is never narrower than its content (up to `max`).
    pub min: u16,
    /// Widest useful width of a [`Kind::Short`] column, in cells; other kinds ignore it.
    pub max: u16,
    /// 0 = always shown; higher numbers are dropped first on narrow screens.
    pub priority: u8,
    /// Right-aligned (numbers).
    pub right: bool,
    /// How it is sized and cut.
    pub kind: Kind,
    /// Whether its cells carry a severity colour.
    pub badge: Badge,
    /// Whether its cells are space-separated ids (rule ids): when cut, each id is cut in
    /// the middle (`role-t…anyone role-t…-org`) so different ids stay different.
    pub list: bool,
}

/// Which cells carry a severity colour. Rows themselves are never coloured by severity (a
/// screen of red rows hides which are critical); a badge cell and the row's marker are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Badge {
    /// Plain cells.
    None,
    /// Coloured with the row's worst severity ([`Row::severity`]).
    Row,
    /// Coloured with this severity when the cell counts at least one (not `0`, `-` or `?`).
    Count(Severity),
}

impl Column {
    /// The same column with severity-coloured cells.
    pub const fn badge(self, badge: Badge) -> Self {
        Column { badge, ..self }
    }

    /// The same column holding space-separated ids (see [`Column::list`]).
    pub const fn list(self) -> Self {
        Column { list: true, ..self }
    }
}

/// A short column (status words, dates): `min`..`max` cells by content.
pub const fn col(title: &'static str, min: u16, max: u16, priority: u8) -> Column {
    Column {
        title,
        min,
        max,
        priority,
        right: false,
        kind: Kind::Short,
        badge: Badge::None,
        list: false,
    }
}

/// An identifier column (see [`Kind::Ident`]).
pub const fn ident(title: &'static str, min: u16, priority: u8) -> Column {
    Column {
        title,
        min,
        max: u16::MAX,
        priority,
        right: false,
        kind: Kind::Ident,
        badge: Badge::None,
        list: false,
    }
}

/// A long-text column (see [`Kind::Text`]).
pub const fn text(title: &'static str, min: u16, priority: u8) -> Column {
    Column {
        title,
        min,
        max: u16::MAX,
        priority,
        right: false,
        kind: Kind::Text,
        badge: Badge::None,
        list: false,
    }
}

/// A right-aligned numeric column.
pub const fn num(title: &'static str, min: u16, priority: u8) -> Column {
    Column {
        title,
        min,
        max: min,
        priority,
        right: true,
        kind: Kind::Num,
        badge: Badge::None,
        list: false,
    }
}

/// What a row is about; the selection follows it across refreshes. Names are compact strings
/// (inline up to 24 bytes): a 100,000-row view holds one identity per row.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum RowId {
    /// An account.
    Account(AccountId),
    /// A user of an account.
    User(AccountId, CompactString),
    /// An access key of a user (the root user's findings use `<root_account>`).
    Key(AccountId, CompactString, AccessKeyId),
    /// A finding: the rule id and what it is about.
    Finding(AccountId, CompactString, Option<AccessKeyId>, &'static str),
    /// A journal line: its action id and phase.
    Journal(String, bool),
    /// A group of findings: its rule and account (`None`: all of them).
    Group(Option<&'static str>, Option<AccountId>),
    /// An SSH public key, signing certificate or service-specific credential of a user.
    Credential(AccountId, CompactString, crate::model::CredentialRef),
    /// The console password of a user.
    Password(AccountId, CompactString),
    /// An IAM role of an account, by name.
    Role(AccountId, CompactString),
}

impl RowId {
    /// The row of a write's target: [`RowId::Key`], [`RowId::Credential`] or
    /// [`RowId::Password`] of `user` in `account`.
    pub fn of_target(account: &AccountId, user: &str, target: &crate::model::Target) -> Self {
        use crate::model::Target;
        match target {
            Target::AccessKey(k) => Self::Key(account.clone(), user.into(), k.clone()),
            Target::Credential(c) => Self::Credential(account.clone(), user.into(), c.clone()),
            Target::ConsolePassword => Self::Password(account.clone(), user.into()),
        }
    }
}

/// How a cell sorts: numbers as numbers, text by the cell's lowercased text; `None` sorts
/// last in either direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortKey {
    /// A number (days, counts, severities).
    Num(i64),
    /// The cell's text, case-insensitively.
    Text,
    /// No value.
    None,
}

/// One row: its cells (one per column), sort keys, and how to style it. Cells are compact
/// strings (no heap for text up to 24 bytes): a large organization has 100,000 key rows.
#[derive(Clone, Debug)]
pub struct Row {
    /// Identity.
    pub id: RowId,
    /// Display text per column.
    pub cells: Vec<CompactString>,
    /// Sort key per column, packed in 8 bytes each ([`Row::sort_key`] reads one).
    sort: Vec<Packed>,
    /// Worst severity about this row (colours it).
    pub severity: Option<Severity>,
    /// Greyed (account not scanned, inactive key…).
    pub dim: bool,
    /// Could not be read (an account whose scan was denied or failed): the row's marker is
    /// [`FAILED_MARKER`] in the error style, whatever its severity.
    pub failed: bool,
}

/// A [`SortKey`] in 8 bytes instead of 16 (a 100,000-row view keeps a million of them):
/// numbers as themselves, `Text` and `None` as the two smallest `i64`s, which no number
/// shown in a table reaches (a number there is clamped above them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Packed(i64);

impl Packed {
    const NONE: i64 = i64::MIN;
    const TEXT: i64 = i64::MIN + 1;

    fn pack(key: SortKey) -> Self {
        Self(match key {
            SortKey::Num(n) => n.max(Self::TEXT + 1),
            SortKey::Text => Self::TEXT,
            SortKey::None => Self::NONE,
        })
    }

    fn unpack(self) -> SortKey {
        match self.0 {
            Self::NONE => SortKey::None,
            Self::TEXT => SortKey::Text,
            n => SortKey::Num(n),
        }
    }
}

impl Row {
    /// A row from `(cell text, sort key)` pairs, one per column.
    pub fn new<T: Into<CompactString>>(
        id: RowId,
        cols: Vec<(T, SortKey)>,
        severity: Option<Severity>,
        dim: bool,
    ) -> Self {
        let (cells, sort) = cols
            .into_iter()
            .map(|(text, key)| (text.into(), Packed::pack(key)))
            .unzip();
        Self {
            id,
            cells,
            sort,
            severity,
            dim,
            failed: false,
        }
    }

    /// A row from its cells and their sort keys (as many as cells), without a vector of
    /// pairs in between (the hot path of a 100,000-row view).
    pub fn from_parts(
        id: RowId,
        cells: Vec<CompactString>,
        sort: &[SortKey],
        severity: Option<Severity>,
        dim: bool,
    ) -> Self {
        Self {
            id,
            cells,
            sort: sort.iter().map(|k| Packed::pack(*k)).collect(),
            severity,
            dim,
            failed: false,
        }
    }

    /// The sort key of column `col`; `None` past the last column.
    pub fn sort_key(&self, col: usize) -> Option<SortKey> {
        self.sort.get(col).map(|p| p.unpack())
    }

    /// Drops the first `n` cells and their sort keys (the columns a scoped view hides).
    pub fn drop_leading(&mut self, n: usize) {
        self.cells.drain(..n.min(self.cells.len()));
        self.sort.drain(..n.min(self.sort.len()));
    }
}

/// A sort key resolved for one sort: the cell's text, lowercased (borrowed when it has no
/// uppercase letter).
#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum Resolved<'a> {
    Num(i64),
    Text(Lower<'a>),
}

/// A cell's text lowercased: borrowed when it already is, else a compact string (inline up
/// to 24 bytes, so sorting 100,000 access key ids allocates nothing).
enum Lower<'a> {
    Borrowed(&'a str),
    Owned(CompactString),
}

impl Lower<'_> {
    fn as_str(&self) -> &str {
        match self {
            Lower::Borrowed(s) => s,
            Lower::Owned(s) => s,
        }
    }
}

impl PartialEq for Lower<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Lower<'_> {}

impl PartialOrd for Lower<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Lower<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.as_str().cmp(other.as_str())
    }
}

fn lowercase(s: &CompactString) -> Lower<'_> {
    if s.bytes().any(|b| b.is_ascii_uppercase()) || !s.is_ascii() {
        Lower::Owned(s.to_lowercase())
    } else {
        Lower::Borrowed(s)
    }
}

/// Sort direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Order {
    /// Smallest first (▲).
    Asc,
    /// Largest first (▼).
    Desc,
}

/// Table state: rows, the sorted and filtered projection, selection, scroll.
#[derive(Debug)]
pub struct Table {
    columns: &'static [Column],
    rows: Vec<Row>,
    /// Per row, its cells lowercased and joined: built on the first filter after the rows
    /// change (a rebuild without a filter costs nothing for it), empty until then.
    haystacks: Haystacks,
    /// Widest value per column over all rows, in cells.
    content: Vec<u16>,
    /// Per identifier column, the width nine rows in ten fit in (cells; other columns: their
    /// widest value): one long SSO role name does not take the room of every row's text.
    typical: Vec<u16>,
    /// Widest value per column over the rows a filter shows (computed once per filter
    /// change, only while a filter hides rows and shows at most [`VIEW_WIDTHS_MAX`]);
    /// `None`: [`Table::content`] applies.
    view_content: Option<Vec<u16>>,
    sorted: Vec<usize>,
    view: Vec<usize>,
    selected: usize,
    selected_id: Option<RowId>,
    /// Until the user moves, the selection stays on the first row as rows arrive and re-sort.
    moved: bool,
    offset: Cell<usize>,
    viewport_rows: Cell<usize>,
    sort_col: usize,
    order: Order,
    filter: String,
    /// Marked rows (by identity), drawn with a `●` after the severity marker, in a cell of
    /// its own; set by the app.
    pub marks: std::collections::HashSet<RowId>,
    /// Per column, true when it is not drawn (every row of a scoped view shares its value);
    /// its cells still match the filter. Empty: every column drawn.
    hidden: Vec<bool>,
}

impl Table {
    /// An empty table sorted by `sort_col` in `order`.
    pub fn new(columns: &'static [Column], sort_col: usize, order: Order) -> Self {
        Self {
            columns,
            rows: Vec::new(),
            haystacks: Haystacks::default(),
            content: Vec::new(),
            typical: Vec::new(),
            view_content: None,
            sorted: Vec::new(),
            view: Vec::new(),
            selected: 0,
            selected_id: None,
            moved: false,
            offset: Cell::new(0),
            viewport_rows: Cell::new(10),
            sort_col,
            order,
            filter: String::new(),
            marks: std::collections::HashSet::new(),
            hidden: Vec::new(),
        }
    }

    /// Does not draw the columns titled `titles` (a view of one rule's findings hides RULE:
    /// the title says it, and the room goes to the key id). The sort skips them too.
    pub fn hide(&mut self, titles: &[&str]) {
        self.hidden = self.columns.iter().map(|c| titles.contains(&c.title)).collect();
        if self.is_hidden(self.sort_col) {
            self.cycle_sort(1);
        }
    }

    fn is_hidden(&self, c: usize) -> bool {
        self.hidden.get(c).copied().unwrap_or(false)
    }

    /// Replaces the rows, keeping sort, filter and the selected row (by identity; if it is
    /// gone, the same position, clamped).
    pub fn set_rows(&mut self, mut rows: Vec<Row>) {
        // Rows are collected from iterators of unknown length: drop the doubling slack
        // (up to half the row structs of a 100,000-row view).
        rows.shrink_to_fit();
        self.haystacks = Haystacks::default();
        let mut content = vec![0u16; self.columns.len()];
        // Rows per width (up to 255 cells) of each identifier column.
        let mut counts: Vec<Vec<u32>> = self
            .columns
            .iter()
            .map(|c| {
                if c.kind == Kind::Ident {
                    vec![0; 256]
                } else {
                    Vec::new()
                }
            })
            .collect();
        for row in &rows {
            for ((w, cell), n) in content.iter_mut().zip(&row.cells).zip(counts.iter_mut()) {
                let cw = display_width(cell);
                *w = (*w).max(cw);
                if let Some(slot) = n.get_mut(usize::from(cw.min(255))) {
                    *slot += 1;
                }
            }
        }
        self.typical = content
            .iter()
            .zip(&counts)
            .map(|(&full, n)| {
                if n.is_empty() {
                    return full;
                }
                let need = (rows.len() * 9).div_ceil(10) as u32;
                let mut seen = 0;
                n.iter()
                    .position(|&k| {
                        seen += k;
                        seen >= need
                    })
                    .map_or(full, |w| (w as u16).min(full))
            })
            .collect();
        self.content = content;
        self.rows = rows;
        self.resort();
    }

    fn resort(&mut self) {
        let col = self.sort_col;
        // A numeric column (ages, counts, dates: the default sorts of the large views) sorts
        // packed `(key, index)` pairs without indirection; the index breaks ties, so the
        // unstable sort gives the stable order. Missing values go last either way.
        if self.rows.iter().all(|r| r.sort_key(col) != Some(SortKey::Text)) {
            let desc = self.order == Order::Desc;
            let mut pairs: Vec<(u8, i64, u32)> = self
                .rows
                .iter()
                .enumerate()
                .map(|(i, r)| match r.sort_key(col) {
                    Some(SortKey::Num(n)) => (0, if desc { n.saturating_neg() } else { n }, i as u32),
                    _ => (1, 0, i as u32),
                })
                .collect();
            pairs.sort_unstable();
            self.sorted = pairs.into_iter().map(|(_, _, i)| i as usize).collect();
            self.refilter();
            return;
        }
        // Keys next to their row's index (no indirection while sorting); the index breaks
        // ties, so the unstable sort gives the stable order.
        let mut keys: Vec<(Option<Resolved<'_>>, u32)> = self
            .rows
            .iter()
            .enumerate()
            .map(|(i, row)| {
                let key = match row.sort_key(col) {
                    Some(SortKey::Num(n)) => Some(Resolved::Num(n)),
                    Some(SortKey::Text) => row.cells.get(col).map(|c| Resolved::Text(lowercase(c))),
                    _ => None,
                };
                (key, i as u32)
            })
            .collect();
        let order = self.order;
        keys.sort_unstable_by(|a, b| compare_keys(a.0.as_ref(), b.0.as_ref(), order).then(a.1.cmp(&b.1)));
        let sorted: Vec<usize> = keys.into_iter().map(|(_, i)| i as usize).collect();
        self.sorted = sorted;
        self.refilter();
    }

    fn refilter(&mut self) {
        let terms = parse_filter(&self.filter, self.columns);
        if !terms.is_empty() && self.haystacks.len() != self.rows.len() {
            self.haystacks = Haystacks::of(&self.rows);
        }
        self.view = if terms.is_empty() {
            self.sorted.clone()
        } else {
            self.sorted
                .iter()
                .copied()
                .filter(|&i| {
                    terms
                        .iter()
                        .all(|t| t.matches(self.haystacks.get(i), self.rows[i].severity))
                })
                .collect()
        };
        // A filter showing many rows keeps the full table's widths (its rows are nearly as
        // varied): a keystroke on 100,000 rows does not measure them all.
        self.view_content = if terms.is_empty()
            || self.view.len() == self.rows.len()
            || self.view.is_empty()
            || self.view.len() > VIEW_WIDTHS_MAX
        {
            None
        } else {
            Some(self.widths_of_view())
        };
        let by_id = self
            .selected_id
            .as_ref()
            .and_then(|id| self.view.iter().position(|&i| &self.rows[i].id == id));
        let keep = if self.moved { by_id.unwrap_or(self.selected) } else { 0 };
        self.selected = keep.min(self.view.len().saturating_sub(1));
        // The selected row stays the anchor while a filter hides it, so clearing the filter
        // brings the selection back to it; only the user's moves change the anchor.
        if by_id.is_some() || !self.moved {
            self.selected_id = self.selected_row().map(|r| r.id.clone());
        }
    }

    /// Widest value per column over the shown rows, in cells. Stops once every column is
    /// as wide as over all rows (a broad filter on 100,000 rows reads a few rows only).
    fn widths_of_view(&self) -> Vec<u16> {
        let mut widths = vec![0u16; self.columns.len()];
        let mut open = widths.len();
        for &i in &self.view {
            for (c, cell) in self.rows[i].cells.iter().enumerate().take(widths.len()) {
                let full = self.content[c];
                if widths[c] < full {
                    widths[c] = widths[c].max(display_width(cell));
                    if widths[c] >= full {
                        open -= 1;
                    }
                }
            }
            if open == 0 {
                break;
            }
        }
        widths
    }

    /// Widest value per column of the rows shown (all rows without a filter), in cells.
    pub fn content_widths(&self) -> &[u16] {
        self.view_content.as_deref().unwrap_or(&self.content)
    }

    fn remember_selection(&mut self) {
        self.moved = true;
        self.selected_id = self.selected_row().map(|r| r.id.clone());
    }

    /// Sets the live filter (see [`parse_filter`]: substrings, `column:value`, `!` negates).
    pub fn set_filter(&mut self, filter: &str) {
        if self.filter != filter {
            self.filter = filter.to_owned();
            self.refilter();
        }
    }

    /// What the table says when rows exist but the filter hides them all: names a
    /// `name:` that names no column here, with the columns that can be named.
    fn no_match(&self) -> String {
        let unknown: Vec<String> = parse_filter(&self.filter, self.columns)
            .into_iter()
            .filter_map(|t| t.unknown_column)
            .collect();
        if unknown.is_empty() {
            return "no row matches the filter".to_owned();
        }
        let names: Vec<String> = self
            .columns
            .iter()
            .map(|c| c.title.to_lowercase().replace(' ', ""))
            .chain(["sev".to_owned()])
            .collect();
        format!(
            "no row matches the filter; no column here is named {} (searched as text); columns: {}",
            unknown.iter().map(|n| format!("{n}:")).collect::<Vec<_>>().join(", "),
            names.join(", ")
        )
    }

    /// The filter text.
    pub fn filter(&self) -> &str {
        &self.filter
    }

    /// Sorts by the next (`step` = 1) or previous (`step` = -1) column.
    pub fn cycle_sort(&mut self, step: isize) {
        let n = self.columns.len() as isize;
        for _ in 0..n.max(1) {
            self.sort_col = ((self.sort_col as isize + step).rem_euclid(n.max(1))) as usize;
            if !self.is_hidden(self.sort_col) {
                break;
            }
        }
        self.order = if self.columns[self.sort_col].right {
            Order::Desc
        } else {
            Order::Asc
        };
        self.resort();
    }

    /// Reverses the sort order.
    pub fn reverse_sort(&mut self) {
        self.order = match self.order {
            Order::Asc => Order::Desc,
            Order::Desc => Order::Asc,
        };
        self.resort();
    }

    /// `(column title, order)`.
    pub fn sort(&self) -> (&'static str, Order) {
        (
            self.columns.get(self.sort_col).map(|c| c.title).unwrap_or_default(),
            self.order,
        )
    }

    /// Moves the selection by `delta` rows, clamped.
    pub fn move_by(&mut self, delta: isize) {
        let last = self.view.len().saturating_sub(1) as isize;
        self.selected = (self.selected as isize + delta).clamp(0, last.max(0)) as usize;
        self.remember_selection();
    }

    /// Moves by one screen (the height last drawn).
    pub fn page(&mut self, down: bool) {
        let h = self.viewport_rows.get().max(1) as isize;
        self.move_by(if down { h } else { -h });
    }

    /// First row.
    pub fn top(&mut self) {
        self.selected = 0;
        self.remember_selection();
    }

    /// Last row.
    pub fn bottom(&mut self) {
        self.selected = self.view.len().saturating_sub(1);
        self.remember_selection();
    }

    /// Selects the row with this id, if shown.
    pub fn select_id(&mut self, id: &RowId) {
        if let Some(p) = self.view.iter().position(|&i| &self.rows[i].id == id) {
            self.selected = p;
            self.remember_selection();
        }
    }

    /// The selected row.
    pub fn selected_row(&self) -> Option<&Row> {
        self.view.get(self.selected).map(|&i| &self.rows[i])
    }

    /// Index of the selection within the shown rows.
    pub fn selected_index(&self) -> usize {
        self.selected
    }

    /// Rows shown (after the filter) and rows in all.
    pub fn counts(&self) -> (usize, usize) {
        (self.view.len(), self.rows.len())
    }

    /// Rows shown, in order.
    pub fn shown(&self) -> impl Iterator<Item = &Row> {
        self.view.iter().map(|&i| &self.rows[i])
    }

    /// Draws the table in `area` with a titled border; `empty` is shown when there are no
    /// rows at all. Only the visible rows are built.
    pub fn render(&self, area: Rect, buf: &mut Buffer, title: Line<'_>, empty: &str, theme: &Theme) {
        let block = Block::default()
            .borders(Borders::ALL)
            .title(title)
            .border_style(theme.border());
        let inner = block.inner(area);
        block.render(area, buf);
        if inner.width == 0 || inner.height < 2 {
            return;
        }
        let body_rows = usize::from(inner.height - 1);
        self.viewport_rows.set(body_rows);
        let offset = scroll_top(self.offset.get(), body_rows, self.selected, self.view.len());
        self.offset.set(offset);

        let want: Vec<u16> = self
            .columns
            .iter()
            .enumerate()
            .map(|(c, col)| {
                title_width(col, c == self.sort_col).max(self.content_widths().get(c).copied().unwrap_or(0))
            })
            .collect();
        // A one-cell severity marker leads every row (readable without colour); while any
        // row is marked, one more cell holds the mark (`‼●`), so a mark cuts no cell of its
        // row (every row gives the one cell alike).
        let marker_w = match inner.width > MARKER_MIN_WIDTH {
            false => 0,
            true if self.marks.is_empty() => 1,
            true => 2,
        };
        let drawn: Vec<usize> = (0..self.columns.len()).filter(|&c| !self.is_hidden(c)).collect();
        let drawn_columns: Vec<Column> = drawn.iter().map(|&c| self.columns[c]).collect();
        let drawn_want: Vec<u16> = drawn.iter().map(|&c| want[c]).collect();
        // An identifier whose rare values are far longer (by OUTLIER cells) than nine rows
        // in ten need first gets what those need (with its title), the rest after the long
        // text; a few cells more are not worth cutting a name for.
        let drawn_typical: Vec<u16> = drawn
            .iter()
            .map(|&c| {
                let typical = self.typical.get(c).copied().unwrap_or(want[c]);
                let typical = typical.max(title_width(&self.columns[c], c == self.sort_col));
                if want[c].saturating_sub(typical) >= OUTLIER {
                    typical
                } else {
                    want[c]
                }
            })
            .collect();
        let marker_room = if marker_w > 0 { marker_w + 1 } else { 0 };
        let shown: Vec<(usize, u16)> = fit_columns_capped(
            &drawn_columns,
            &drawn_want,
            &drawn_typical,
            inner.width.saturating_sub(marker_room),
        )
        .into_iter()
        .map(|(i, w)| (drawn[i], w))
        .collect();
        let widths: Vec<Constraint> = std::iter::once(Constraint::Length(marker_w))
            .chain(shown.iter().map(|&(_, w)| Constraint::Length(w)))
            .collect();
        let column_spacing = 1;
        let header = TRow::new(std::iter::once(TCell::from("")).chain(shown.iter().map(|&(c, w)| {
            let col = &self.columns[c];
            let mark = match (c == self.sort_col, self.order) {
                (true, Order::Asc) => "▲",
                (true, Order::Desc) => "▼",
                _ => "",
            };
            // The title without its sort mark rather than cut (the box title says the sort).
            let title = if display_width(col.title) + u16::from(!mark.is_empty()) > w && display_width(col.title) == w {
                col.title.to_owned()
            } else {
                truncate(&format!("{}{mark}", col.title), w)
            };
            if col.right {
                TCell::from(format!("{title:>width$}", width = usize::from(w)))
            } else {
                TCell::from(title)
            }
        })))
        .style(theme.header());
        if self.view.is_empty() {
            let no_match;
            let msg = if self.rows.is_empty() {
                empty
            } else {
                no_match = self.no_match();
                &no_match
            };
            TTable::new(Vec::<TRow>::new(), widths)
                .header(header)
                .column_spacing(column_spacing)
                .flex(Flex::Start)
                .render(inner, buf);
            // Wrapped over the rest of the body: an error must show whole, hint included.
            let below = Rect {
                y: inner.y + 1,
                height: inner.height - 1,
                ..inner
            };
            Paragraph::new(msg).wrap(Wrap { trim: false }).render(below, buf);
            return;
        }
        let end = (offset + body_rows).min(self.view.len());
        let rows = self.view[offset..end].iter().enumerate().map(|(n, &i)| {
            let row = &self.rows[i];
            let mut style = theme.row(row.dim);
            if offset + n == self.selected {
                style = style.patch(theme.selected());
            }
            let marked = self.marks.contains(&row.id);
            if marked {
                style = style.add_modifier(ratatui::style::Modifier::BOLD);
            }
            let mut marker = match row.severity {
                _ if row.failed && marker_w > 0 => vec![Span::styled(FAILED_MARKER, theme.error())],
                Some(sev) if marker_w > 0 => vec![Span::styled(marker_glyph(sev), theme.severity(sev))],
                _ if marker_w > 0 => vec![Span::raw(" ")],
                _ => vec![],
            };
            if marked && marker_w == 2 {
                marker.push(Span::raw("●"));
            }
            TRow::new(
                std::iter::once(TCell::from(Line::from(marker))).chain(shown.iter().map(|&(c, w)| {
                    let col = &self.columns[c];
                    let raw = row.cells.get(c).map(CompactString::as_str).unwrap_or_default();
                    let text = match col.kind {
                        Kind::Ident => truncate_middle(raw, w),
                        _ if col.list => truncate_list(raw, w),
                        _ => truncate(raw, w),
                    };
                    let text = if col.right {
                        format!("{text:>width$}", width = usize::from(w))
                    } else {
                        text
                    };
                    let badge = match col.badge {
                        Badge::None => None,
                        Badge::Row => row.severity,
                        Badge::Count(sev) => (!matches!(raw, "" | "0" | "-" | "?")).then_some(sev),
                    };
                    match badge {
                        Some(sev) if !row.dim => TCell::from(Span::styled(text, theme.severity(sev))),
                        _ => TCell::from(Span::raw(text)),
                    }
                })),
            )
            .style(style)
        });
        TTable::new(rows, widths)
            .header(header)
            .column_spacing(column_spacing)
            .flex(Flex::Start)
            .render(inner, buf);
    }
}

/// How many cells longer than nine rows in ten an identifier's longest value must be to be
/// cut in the middle before long text is (see [`fit_columns_capped`]).
const OUTLIER: u16 = 10;

/// Up to this many rows shown by a filter, the columns take the widths of the rows shown.
const VIEW_WIDTHS_MAX: usize = 10_000;

/// Below this inner width a table has no severity marker (every cell goes to the data).
const MARKER_MIN_WIDTH: u16 = 20;

/// The row marker of a row that could not be read ([`Row::failed`]): readable without colour.
pub const FAILED_MARKER: &str = "✗";

/// The row marker of a severity: distinct shapes, so critical and high differ without
/// colour too.
pub fn marker_glyph(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "‼",
        Severity::High => "!",
        Severity::Medium => "•",
        Severity::Low => "·",
        Severity::Info => " ",
    }
}

/// Where one filter term looks.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Scope {
    /// Any cell.
    Any,
    /// The cell of this column: anywhere in it (names, ids, text).
    Column(usize),
    /// The cell of this column, from its start: a short word or date (`status:active` is
    /// not `Inactive`).
    Start(usize),
    /// The row's worst severity (`sev:`): its name starts with the value.
    Severity,
}

/// One term of a filter: where, what (lowercase), and whether it must not match.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Term {
    scope: Scope,
    needle: String,
    negate: bool,
    /// The `name` of a `name:value` that names no column here (the term is searched as
    /// text); said when nothing matches.
    unknown_column: Option<String>,
}

impl Term {
    fn matches(&self, haystack: &str, severity: Option<Severity>) -> bool {
        let hit = match self.scope {
            Scope::Any => haystack.contains(&self.needle),
            Scope::Column(c) => haystack
                .split(SEP)
                .nth(c)
                .is_some_and(|cell| cell.contains(&self.needle)),
            Scope::Start(c) => haystack
                .split(SEP)
                .nth(c)
                .is_some_and(|cell| cell.starts_with(&self.needle)),
            Scope::Severity => severity.is_some_and(|s| s.as_str().starts_with(&self.needle)),
        };
        hit != self.negate
    }
}

/// Parses a filter: terms separated by spaces, all of which must hold. A term is a
/// case-insensitive substring of any cell (`jenkins`), or `column:value` for one column
/// (`user:jenkins`; the column is named by a prefix of its title without spaces, e.g.
/// `key:` for ACCESS KEY, `last:` for LAST USED) — anywhere in a name, id or text cell,
/// from the start of a short cell (status words, dates: `status:active` is not
/// `Inactive`) — or `sev:value` for the row's worst severity (`sev:crit`, `sev:high`), in
/// any view. A leading `!` negates a term (`!user:ci-`). A `name:` naming no column is
/// searched as text (`arn:aws`), and said when nothing matches.
fn parse_filter(filter: &str, columns: &[Column]) -> Vec<Term> {
    filter
        .to_lowercase()
        .split_whitespace()
        .filter_map(|raw| {
            let (negate, term) = match raw.strip_prefix('!') {
                Some(rest) => (true, rest),
                None => (false, raw),
            };
            if term.is_empty() {
                return None;
            }
            let unknown = match term.split_once(':') {
                Some(("sev" | "severity", value)) => {
                    // The row's worst severity: the SEV column's meaning, in every view.
                    return Some(Term {
                        scope: Scope::Severity,
                        needle: value.to_owned(),
                        negate,
                        unknown_column: None,
                    });
                }
                Some((name, value)) if !name.is_empty() => match column_named(columns, name) {
                    Some(c) => {
                        let scope = if columns[c].kind == Kind::Short {
                            Scope::Start(c)
                        } else {
                            Scope::Column(c)
                        };
                        return Some(Term {
                            scope,
                            needle: value.to_owned(),
                            negate,
                            unknown_column: None,
                        });
                    }
                    None => Some(name.to_owned()),
                },
                _ => None,
            };
            Some(Term {
                scope: Scope::Any,
                needle: term.to_owned(),
                negate,
                unknown_column: unknown,
            })
        })
        .collect()
}

/// The column a filter's `name:` names (lowercase): its title without spaces, else a
/// prefix of that, else one word of the title (`key` for ACCESS KEY).
fn column_named(columns: &[Column], name: &str) -> Option<usize> {
    let squeezed = |c: &Column| -> String { c.title.to_lowercase().chars().filter(|ch| *ch != ' ').collect() };
    columns
        .iter()
        .position(|c| squeezed(c) == name)
        .or_else(|| columns.iter().position(|c| squeezed(c).starts_with(name)))
        .or_else(|| {
            columns
                .iter()
                .position(|c| c.title.to_lowercase().split(' ').any(|w| w == name))
        })
}

/// Display width of `s` in cells (ASCII fast path), saturated to `u16`.
fn display_width(s: &str) -> u16 {
    let w = if s.is_ascii() { s.len() } else { s.width() };
    u16::try_from(w).unwrap_or(u16::MAX)
}

/// Every row's cells, lowercased and joined by [`SEP`], in one buffer: one allocation for
/// a 100,000-row view instead of one per row (a filter keeps them while it is typed).
#[derive(Debug, Default)]
struct Haystacks {
    text: String,
    /// Where each row's text ends in `text`, in bytes.
    ends: Vec<usize>,
}

impl Haystacks {
    fn of(rows: &[Row]) -> Self {
        let bytes = rows
            .iter()
            .map(|r| r.cells.iter().map(|c| c.len() + 1).sum::<usize>())
            .sum();
        let mut text = String::with_capacity(bytes);
        let mut ends = Vec::with_capacity(rows.len());
        for row in rows {
            for (n, cell) in row.cells.iter().enumerate() {
                if n > 0 {
                    text.push(SEP);
                }
                if cell.bytes().any(|b| b.is_ascii_uppercase()) || !cell.is_ascii() {
                    text.push_str(&cell.to_lowercase());
                } else {
                    text.push_str(cell);
                }
            }
            ends.push(text.len());
        }
        Self { text, ends }
    }

    fn len(&self) -> usize {
        self.ends.len()
    }

    /// Row `i`'s haystack; empty past the last row.
    fn get(&self, i: usize) -> &str {
        let start = i.checked_sub(1).and_then(|p| self.ends.get(p)).copied().unwrap_or(0);
        let end = self.ends.get(i).copied().unwrap_or(start);
        &self.text[start..end]
    }
}

/// Separates cells in a row's haystack (a control character no cell contains).
const SEP: char = '\u{1f}';

fn compare_keys(a: Option<&Resolved<'_>>, b: Option<&Resolved<'_>>, order: Order) -> Ordering {
    match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(a), Some(b)) => {
            let o = a.cmp(b);
            if order == Order::Desc { o.reverse() } else { o }
        }
    }
}

/// Moves the first visible row only when the selection leaves the window.
fn scroll_top(current: usize, height: usize, selected: usize, len: usize) -> usize {
    let max_top = len.saturating_sub(height);
    let top = if selected < current {
        selected
    } else if selected >= current + height {
        selected + 1 - height
    } else {
        current
    };
    top.min(max_top)
}

/// Chooses the columns that fit in `width` and their widths. `want[c]` is what column `c`
/// needs to show every value and its title in full (cells).
///
/// Columns are dropped, least important ([`Column::priority`]) first, until every kept one
/// fits at its floor (its `min`, or less when its values are narrower). A less important
/// column (priority 2 and up) is also dropped while the identifiers more important than it
/// cannot be whole beside it: an account or user name goes whole before a creation date or
/// a request id is shown; a long-text one also while more important text cannot be whole
/// (a finding's controls go before its detail is cut). A dropped column comes back into room no kept column wants (the
/// journal's ERROR where its TIME went). A short column ([`Kind::Short`]) is whole (up to
/// its `max`) or not shown: its floor is its content. The room left goes, in this order, to
/// numbers, identifiers and long text, each up to what it wants. Identifiers share it by
/// priority, and identifiers of equal priority evenly (the shortest is whole first, the
/// longest is cut most: a 32-character certificate id gives before a user name); long text
/// takes all the rest, by priority (a finding's detail before its controls). So an
/// identifier is cut only when every other column is at most as wide as its content; room
/// nobody wants stays blank at the right.
pub fn fit_columns(columns: &[Column], want: &[u16], width: u16) -> Vec<(usize, u16)> {
    fit_columns_capped(columns, want, want, width)
}

/// [`fit_columns`] where an identifier first gets `typical[c]` (what most of its values
/// need, at most `want[c]`), then the long text its room, then the identifier the rest up
/// to `want[c]`: a rare long value (one SSO role name of 51 cells) is cut in the middle
/// before the text of every row is (only while a long-text column is shown).
pub fn fit_columns_capped(columns: &[Column], want: &[u16], typical: &[u16], width: u16) -> Vec<(usize, u16)> {
    let typical_of = |c: usize| -> u32 {
        let w = u32::from(want.get(c).copied().unwrap_or(0)).max(1);
        u32::from(typical.get(c).copied().unwrap_or(u16::MAX)).clamp(1, w)
    };
    let want_of = |c: usize| -> u32 {
        let w = u32::from(want.get(c).copied().unwrap_or(0)).max(1);
        match columns[c].kind {
            Kind::Short => w.min(u32::from(columns[c].max.max(columns[c].min))),
            _ => w,
        }
    };
    // A short word is whole or not shown (`Inactive` never reads `Inact…`).
    let floor = |c: usize| match columns[c].kind {
        Kind::Short => want_of(c),
        _ => u32::from(columns[c].min).min(want_of(c)),
    };
    let seps = |keep: &[usize]| keep.len().saturating_sub(1) as u32;
    let need = |keep: &[usize]| keep.iter().map(|&c| floor(c)).sum::<u32>() + seps(keep);
    // Identifiers and numbers more important than `priority` in full (and long text too,
    // when `text`), the rest at their floor.
    let need_above = |keep: &[usize], priority: u8, text: bool| {
        keep.iter()
            .map(|&c| match columns[c].kind {
                Kind::Ident | Kind::Num if columns[c].priority < priority => want_of(c),
                Kind::Text if text && columns[c].priority < priority => want_of(c),
                _ => floor(c),
            })
            .sum::<u32>()
            + seps(keep)
    };
    let worst = |keep: &[usize], at_least: u8| {
        keep.iter()
            .enumerate()
            .filter(|&(_, &c)| columns[c].priority >= at_least)
            .max_by_key(|&(pos, &c)| (columns[c].priority, pos))
            .map(|(p, _)| p)
    };
    let mut keep: Vec<usize> = (0..columns.len()).collect();
    while keep.len() > 1 && need(&keep) > u32::from(width) {
        if let Some(p) = worst(&keep, 0) {
            keep.remove(p);
        }
    }
    while keep.len() > 1 {
        match worst(&keep, 2) {
            Some(p)
                if need_above(&keep, columns[keep[p]].priority, columns[keep[p]].kind == Kind::Text)
                    > u32::from(width) =>
            {
                keep.remove(p);
            }
            _ => break,
        }
    }
    // A dropped column comes back (most important first) into room no kept column wants:
    // at least its floor, an identifier whole (the journal's ERROR where its TIME went, not
    // a cut request id).
    let mut dropped: Vec<usize> = (0..columns.len()).filter(|c| !keep.contains(c)).collect();
    dropped.sort_by_key(|&c| (columns[c].priority, c));
    for c in dropped {
        let wanted = keep.iter().map(|&k| want_of(k)).sum::<u32>() + seps(&keep);
        let least = if columns[c].kind == Kind::Ident {
            want_of(c)
        } else {
            floor(c)
        };
        if !keep.is_empty() && wanted + 1 + least <= u32::from(width) {
            keep.push(c);
            keep.sort_unstable();
        }
    }
    let mut widths: Vec<u32> = keep.iter().map(|&c| floor(c)).collect();
    let mut spare = u32::from(width).saturating_sub(need(&keep));
    let of_kind = |kind: Kind| -> Vec<usize> { (0..keep.len()).filter(|&p| columns[keep[p]].kind == kind).collect() };
    let give = |p: usize, widths: &mut [u32], spare: &mut u32| {
        let extra = want_of(keep[p]).saturating_sub(widths[p]).min(*spare);
        widths[p] += extra;
        *spare -= extra;
    };
    for p in of_kind(Kind::Num) {
        give(p, &mut widths, &mut spare);
    }
    // Identifiers: by priority; within one priority, evenly up to what each wants.
    let mut idents = of_kind(Kind::Ident);
    idents.sort_by_key(|&p| columns[keep[p]].priority);
    // The cap gives way to long text only: without text, identifiers get their whole want
    // by priority (a user name before a lower-priority key id).
    let capped = keep.iter().any(|&c| columns[c].kind == Kind::Text);
    for group in idents.chunk_by(|&a, &b| columns[keep[a]].priority == columns[keep[b]].priority) {
        let to = |p: usize| if capped { typical_of(keep[p]) } else { want_of(keep[p]) };
        share_evenly(group, to, &mut widths, &mut spare);
    }
    // Long text, by priority, evenly within one (short words are whole already); first
    // each its title whole (`TRUSTED OUTSIDE`, not `TRUSTED OUTS…`).
    let mut texts = of_kind(Kind::Text);
    texts.sort_by_key(|&p| columns[keep[p]].priority);
    for &p in &texts {
        let title = u32::from(display_width(columns[keep[p]].title)).min(want_of(keep[p]));
        let extra = title.saturating_sub(widths[p]).min(spare);
        widths[p] += extra;
        spare -= extra;
    }
    for group in texts.chunk_by(|&a, &b| columns[keep[a]].priority == columns[keep[b]].priority) {
        share_evenly(group, |p| want_of(keep[p]), &mut widths, &mut spare);
    }
    // Then the rare long identifiers.
    for group in idents.chunk_by(|&a, &b| columns[keep[a]].priority == columns[keep[b]].priority) {
        share_evenly(group, |p| want_of(keep[p]), &mut widths, &mut spare);
    }
    keep.iter()
        .zip(widths)
        .map(|(&c, w)| (c, w.min(u32::from(width)) as u16))
        .collect()
}

/// Raises `widths` of the columns at positions `group` towards one level, each up to
/// `want(p)`, spending at most `spare`: the narrowest grow first, so values that fit are
/// whole and only the longest are cut. A cell left over goes to the first in `group`.
fn share_evenly(group: &[usize], want: impl Fn(usize) -> u32, widths: &mut [u32], spare: &mut u32) {
    loop {
        let open: Vec<usize> = group.iter().copied().filter(|&p| widths[p] < want(p)).collect();
        if open.is_empty() || *spare == 0 {
            return;
        }
        let low = open.iter().map(|&p| widths[p]).min().unwrap_or(0);
        let at_low: Vec<usize> = open.iter().copied().filter(|&p| widths[p] == low).collect();
        // Up to the next width above `low` (another column's width or a want).
        let next = open
            .iter()
            .map(|&p| if widths[p] > low { widths[p] } else { want(p) })
            .min()
            .unwrap_or(low);
        let step = (next - low).min(*spare / at_low.len() as u32);
        if step == 0 {
            // Fewer cells than columns at the lowest level: one each, in order.
            for &p in at_low.iter().take(*spare as usize) {
                widths[p] += 1;
                *spare -= 1;
            }
            return;
        }
        for &p in &at_low {
            widths[p] += step;
            *spare -= step;
        }
    }
}

/// Cuts `s` to `width` display cells, ending with `…` when cut.
pub fn truncate(s: &str, width: u16) -> String {
    let width = usize::from(width);
    if s.width() <= width {
        return s.to_owned();
    }
    if width == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut used = 0;
    for ch in s.chars() {
        let w = ch.width().unwrap_or(0);
        if used + w > width - 1 {
            break;
        }
        out.push(ch);
        used += w;
    }
    out.push('…');
    out
}

/// Width of `col`'s title in cells, with the sort mark (`▼`) when it is sorted by.
fn title_width(col: &Column, sorted: bool) -> u16 {
    display_width(col.title) + u16::from(sorted)
}

/// Cuts a space-separated list of ids (`role-trusts-anyone key-unused`) to `width` cells:
/// each id cut in the middle to an equal share (at least 7 cells), so different ids stay
/// different; the ids with no room are counted (`+2`).
pub fn truncate_list(s: &str, width: u16) -> String {
    if s.width() <= usize::from(width) {
        return s.to_owned();
    }
    let items: Vec<&str> = s.split(' ').filter(|i| !i.is_empty()).collect();
    let width = usize::from(width);
    for shown in (1..=items.len()).rev() {
        let rest = items.len() - shown;
        let suffix = if rest > 0 { format!(" +{rest}") } else { String::new() };
        let room = width.saturating_sub(suffix.len() + shown - 1);
        let share = room / shown;
        if share >= 7 || shown == 1 {
            let mut extra = room - share * shown;
            let mut out: Vec<String> = Vec::new();
            for item in &items[..shown] {
                let w = share + usize::from(extra > 0);
                extra = extra.saturating_sub(1);
                out.push(truncate_middle(item, w as u16));
            }
            let out = out.join(" ") + &suffix;
            return if out.width() <= width {
                out
            } else {
                truncate(s, width as u16)
            };
        }
    }
    truncate(s, width as u16)
}

/// Cuts `s` to `width` display cells by dropping its middle (`acme-sa…research`): names
/// that share a prefix (`acme-sandbox-…`) stay apart by their ends. The end gets the larger
/// half.
pub fn truncate_middle(s: &str, width: u16) -> String {
    let width = usize::from(width);
    if s.width() <= width {
        return s.to_owned();
    }
    if width < 3 {
        return truncate(s, width as u16);
    }
    let head_w = (width - 1) / 2;
    let tail_w = width - 1 - head_w;
    let mut head = String::new();
    let mut used = 0;
    for ch in s.chars() {
        let w = ch.width().unwrap_or(0);
        if used + w > head_w {
            break;
        }
        head.push(ch);
        used += w;
    }
    let mut tail: Vec<char> = Vec::new();
    let mut used = 0;
    for ch in s.chars().rev() {
        let w = ch.width().unwrap_or(0);
        if used + w > tail_w {
            break;
        }
        tail.push(ch);
        used += w;
    }
    head.push('…');
    head.extend(tail.into_iter().rev());
    head
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_sort_keys_read_back_as_they_were_made() {
        for key in [
            SortKey::Num(0),
            SortKey::Num(-5),
            SortKey::Num(i64::MAX),
            SortKey::Text,
            SortKey::None,
        ] {
            assert_eq!(Packed::pack(key).unpack(), key);
        }
        // The two smallest numbers are the markers: a number there stays a number.
        assert_eq!(
            Packed::pack(SortKey::Num(i64::MIN)).unpack(),
            SortKey::Num(i64::MIN + 2)
        );
        let mut row = Row::new(
            RowId::Journal("a".into(), false),
            vec![("x", SortKey::Text), ("1", SortKey::Num(1)), ("-", SortKey::None)],
            None,
            false,
        );
        assert_eq!(row.sort_key(1), Some(SortKey::Num(1)));
        assert_eq!(row.sort_key(3), None);
        row.drop_leading(1);
        assert_eq!(row.cells, ["1", "-"]);
        assert_eq!(
            (row.sort_key(0), row.sort_key(1)),
            (Some(SortKey::Num(1)), Some(SortKey::None))
        );
    }

    const COLS: &[Column] = &[ident("NAME", 4, 0), num("AGE", 3, 1), text("NOTE", 4, 2)];
    const WANT: &[u16] = &[10, 3, 20];

    fn row(name: &str, age: Option<i64>) -> Row {
        let id = RowId::User(AccountId::parse("111111111111").unwrap(), name.into());
        let cols = vec![
            (name.to_owned(), SortKey::Text),
            (
                age.map(|a| a.to_string()).unwrap_or_default(),
                age.map(SortKey::Num).unwrap_or(SortKey::None),
            ),
            (format!("note {name}"), SortKey::None),
        ];
        Row::new(id, cols, None, false)
    }

    fn names(t: &Table) -> Vec<String> {
        t.shown().map(|r| r.cells[0].to_string()).collect()
    }

    #[test]
    fn selection_survives_refresh_by_identity() {
        let mut t = Table::new(COLS, 0, Order::Asc);
        t.set_rows(vec![row("a", Some(1)), row("b", Some(2)), row("c", Some(3))]);
        t.move_by(2);
        assert_eq!(t.selected_row().unwrap().cells[0], "c");
        t.set_rows(vec![
            row("0", None),
            row("a", Some(1)),
            row("b", Some(2)),
            row("c", Some(3)),
        ]);
        assert_eq!(t.selected_row().unwrap().cells[0], "c");
        // The selected row vanished: same position, clamped.
        t.set_rows(vec![row("a", Some(1))]);
        assert_eq!(t.selected_row().unwrap().cells[0], "a");
    }

    #[test]
    fn sort_desc_keeps_missing_values_last_and_is_stable() {
        let mut t = Table::new(COLS, 1, Order::Desc);
        t.set_rows(vec![
            row("x", None),
            row("a", Some(5)),
            row("b", Some(9)),
            row("c", Some(5)),
        ]);
        assert_eq!(names(&t), ["b", "a", "c", "x"]);
        t.reverse_sort();
        assert_eq!(names(&t), ["a", "c", "b", "x"]);
        t.cycle_sort(-1);
        assert_eq!(t.sort(), ("NAME", Order::Asc));
        assert_eq!(names(&t), ["a", "b", "c", "x"]);
    }

    #[test]
    fn clearing_a_filter_returns_to_the_selected_row() {
        let mut t = Table::new(COLS, 0, Order::Asc);
        t.set_rows(vec![row("alice", Some(1)), row("bob", Some(2)), row("carol", Some(3))]);
        t.move_by(1);
        t.set_filter("car");
        assert_eq!(t.selected_row().unwrap().cells[0], "carol");
        t.set_filter("");
        assert_eq!(t.selected_row().unwrap().cells[0], "bob");
    }

    #[test]
    fn filter_is_case_insensitive_and_can_match_nothing() {
        let mut t = Table::new(COLS, 0, Order::Asc);
        t.set_rows(vec![row("Alice", Some(1)), row("bob", Some(2))]);
        t.set_filter("ALI");
        assert_eq!(names(&t), ["Alice"]);
        t.set_filter("zzz");
        assert_eq!(t.counts(), (0, 2));
        assert!(t.selected_row().is_none());
        t.set_filter("");
        assert_eq!(t.counts(), (2, 2));
    }

    #[test]
    fn haystacks_hold_each_rows_cells_lowercased_in_one_buffer() {
        let rows = vec![row("AKIAEXAMPLE", Some(1)), row("Ärger", None), row("bob", Some(3))];
        let h = Haystacks::of(&rows);
        assert_eq!(h.len(), 3);
        assert_eq!(h.get(0), "akiaexample\u{1f}1\u{1f}note akiaexample");
        assert_eq!(h.get(1), "ärger\u{1f}\u{1f}note ärger");
        assert_eq!(h.get(2), "bob\u{1f}3\u{1f}note bob");
        assert_eq!(h.get(3), "");
        let mut t = Table::new(COLS, 0, Order::Asc);
        t.set_rows(rows);
        t.set_filter("äR");
        assert_eq!(names(&t), ["Ärger"]);
    }

    #[test]
    fn filter_terms_by_column_negated_and_by_severity() {
        let mut t = Table::new(COLS, 0, Order::Asc);
        let mut rows = vec![row("alice", Some(1)), row("bob", Some(2)), row("carol", Some(3))];
        rows[1].severity = Some(Severity::High);
        rows[2].severity = Some(Severity::Critical);
        t.set_rows(rows);
        let shown = |t: &mut Table, f: &str| {
            t.set_filter(f);
            names(t)
        };
        assert_eq!(shown(&mut t, "name:BO"), ["bob"]);
        assert_eq!(shown(&mut t, "!name:bo"), ["alice", "carol"]);
        assert_eq!(shown(&mut t, "note:car"), ["carol"], "a column named by its title");
        assert_eq!(shown(&mut t, "age:2"), ["bob"]);
        assert_eq!(shown(&mut t, "a !bob"), ["alice", "carol"], "every term holds");
        assert_eq!(shown(&mut t, "sev:high"), ["bob"]);
        assert_eq!(shown(&mut t, "sev:crit"), ["carol"]);
        assert_eq!(shown(&mut t, "!sev:crit"), ["alice", "bob"]);
        assert_eq!(shown(&mut t, "zzz:x"), Vec::<String>::new(), "no such column: text");
        assert_eq!(shown(&mut t, "!"), ["alice", "bob", "carol"], "a bare ! is no term");
    }

    #[test]
    fn a_short_column_matches_from_its_start_and_an_unknown_column_is_named() {
        const C: &[Column] = &[ident("USER", 4, 0), col("STATUS", 6, 9, 1)];
        let r = |user: &str, status: &str| {
            Row::new(
                RowId::User(AccountId::parse("111111111111").unwrap(), user.into()),
                vec![(user, SortKey::Text), (status, SortKey::Text)],
                None,
                false,
            )
        };
        let mut t = Table::new(C, 0, Order::Asc);
        t.set_rows(vec![r("ann", "Active"), r("bo", "Inactive"), r("cy", "Active")]);
        let shown = |t: &mut Table, f: &str| {
            t.set_filter(f);
            names(t)
        };
        // A status word is matched from its start: `active` is not `Inactive`.
        assert_eq!(shown(&mut t, "status:active"), ["ann", "cy"]);
        assert_eq!(shown(&mut t, "!status:active"), ["bo"]);
        assert_eq!(shown(&mut t, "status:in"), ["bo"]);
        // Names keep matching anywhere; a bare word anywhere in any cell.
        assert_eq!(shown(&mut t, "user:y"), ["cy"]);
        assert_eq!(shown(&mut t, "active"), ["ann", "bo", "cy"]);
        assert_eq!(t.no_match(), "no row matches the filter");
        // A name that is no column is searched as text, and said so when nothing matches.
        assert_eq!(shown(&mut t, "foo:bar"), Vec::<String>::new());
        assert_eq!(
            t.no_match(),
            "no row matches the filter; no column here is named foo: (searched as text); columns: user, status, sev"
        );
    }

    #[test]
    fn narrow_screens_drop_low_priority_columns() {
        // Room nobody wants stays blank: the last column is not stretched.
        assert_eq!(fit_columns(COLS, WANT, 80), vec![(0, 10), (1, 3), (2, 20)]);
        // The identifier is whole; the long text takes what is left.
        assert_eq!(fit_columns(COLS, WANT, 20), vec![(0, 10), (1, 3), (2, 5)]);
        assert_eq!(fit_columns(COLS, WANT, 9), vec![(0, 5), (1, 3)]);
        assert_eq!(fit_columns(COLS, WANT, 3), vec![(0, 3)]);
        assert_eq!(fit_columns(COLS, WANT, 0), vec![(0, 0)]);
    }

    #[test]
    fn less_important_columns_go_before_an_identifier_is_cut() {
        const C: &[Column] = &[ident("NAME", 4, 0), col("STATE", 6, 9, 2), ident("ID", 12, 1)];
        // NAME wants 22: with STATE it would be cut to 14; without, it is whole.
        assert_eq!(fit_columns(C, &[22, 6, 12], 36), vec![(0, 22), (2, 12)]);
        assert_eq!(fit_columns(C, &[22, 6, 12], 42), vec![(0, 22), (1, 6), (2, 12)]);
    }

    #[test]
    fn identifiers_of_one_priority_share_the_room_the_longest_cut_first() {
        // An account (22) and a role name in USER (21) in 34 cells: both cut a little, not
        // one whole and the other halved.
        const C: &[Column] = &[ident("ACCOUNT", 8, 0), ident("USER", 8, 0)];
        assert_eq!(fit_columns(C, &[22, 21], 35), vec![(0, 17), (1, 17)]);
        // A user (12) stays whole beside a certificate id (32): the longest gives.
        const D: &[Column] = &[ident("USER", 8, 0), ident("ID", 12, 0)];
        assert_eq!(fit_columns(D, &[12, 32], 40), vec![(0, 12), (1, 27)]);
    }

    #[test]
    fn a_column_goes_only_for_more_important_identifiers() {
        // STATUS beside a certificate id of its own priority: it stays and the id is cut.
        const C: &[Column] = &[ident("USER", 8, 0), ident("ID", 12, 2), col("STATUS", 8, 8, 2)];
        assert_eq!(fit_columns(C, &[12, 32, 8], 40), vec![(0, 12), (1, 18), (2, 8)]);
        // It goes when the user could not be whole beside it.
        assert_eq!(fit_columns(C, &[30, 32, 8], 44), vec![(0, 30), (1, 13)]);
    }

    #[test]
    fn a_dropped_column_comes_back_into_room_nobody_wants() {
        // TIME goes so that the names are whole; ERROR, dropped for room before, comes back
        // into the cells TIME leaves; REQUEST ID, an identifier, only if it fits whole.
        const C: &[Column] = &[
            col("TIME", 19, 19, 2),
            ident("USER", 8, 0),
            ident("KEY", 12, 0),
            ident("REQUEST ID", 10, 3),
            text("ERROR", 8, 3),
        ];
        assert_eq!(
            fit_columns(C, &[19, 12, 20, 36, 30], 50),
            vec![(1, 12), (2, 20), (4, 16)]
        );
    }

    #[test]
    fn short_words_are_whole_or_not_shown() {
        // `Inactive` (8) beside a long user name: the name gives, never the status word.
        const C: &[Column] = &[ident("USER", 8, 0), col("STATUS", 6, 8, 1)];
        assert_eq!(fit_columns(C, &[30, 8], 30), vec![(0, 21), (1, 8)]);
        // No room for the whole word: the column goes.
        const D: &[Column] = &[ident("USER", 8, 0), col("STATUS", 6, 8, 2)];
        assert_eq!(fit_columns(D, &[12, 8], 18), vec![(0, 12)]);
    }

    #[test]
    fn long_text_gets_the_room_before_less_important_text_is_shown() {
        // A finding's detail (88 cells) and its controls: the controls go while the detail
        // cannot be whole, and come back once it is.
        const C: &[Column] = &[ident("RULE", 12, 0), text("DETAIL", 20, 1), text("CONTROLS", 8, 3)];
        assert_eq!(fit_columns(C, &[15, 88, 15], 100), vec![(0, 15), (1, 84)]);
        assert_eq!(fit_columns(C, &[15, 88, 15], 120), vec![(0, 15), (1, 88), (2, 15)]);
        // A short column is whole at its floor; the spare room goes to the text.
        const D: &[Column] = &[col("OPEN", 4, 10, 0), text("DETAIL", 20, 1)];
        assert_eq!(fit_columns(D, &[9, 60], 50), vec![(0, 9), (1, 40)]);
    }

    #[test]
    fn a_rare_long_identifier_is_cut_before_every_rows_text() {
        // ROLE: most names need 29 cells, one SSO role 51; FINDINGS wants 40.
        const C: &[Column] = &[ident("ACCOUNT", 8, 0), ident("ROLE", 8, 0), text("FINDINGS", 8, 0)];
        let want = [22, 51, 40];
        // Capped: FINDINGS whole, the long role cut.
        assert_eq!(
            fit_columns_capped(C, &want, &[22, 29, 40], 98),
            vec![(0, 22), (1, 34), (2, 40)]
        );
        // Uncapped, the one long name starves the text.
        assert_eq!(fit_columns(C, &want, 98), vec![(0, 22), (1, 51), (2, 23)]);
        // With room for all, all are whole.
        assert_eq!(
            fit_columns_capped(C, &want, &[22, 29, 40], 120),
            vec![(0, 22), (1, 51), (2, 40)]
        );
    }

    #[test]
    fn a_filter_sizes_columns_by_the_rows_it_shows() {
        let mut t = Table::new(COLS, 0, Order::Asc);
        t.set_rows(vec![row("a-very-long-name", Some(1)), row("bo", Some(22222))]);
        assert_eq!(t.content_widths(), [16, 5, 21]);
        t.set_filter("bo");
        assert_eq!(t.content_widths(), [2, 5, 7]);
        t.set_filter("");
        assert_eq!(t.content_widths(), [16, 5, 21]);
        // A broad filter that shows every row keeps the full widths.
        t.set_filter("note");
        assert_eq!(t.content_widths(), [16, 5, 21]);
    }

    #[test]
    fn the_typical_width_of_an_identifier_fits_nine_rows_in_ten() {
        let mut t = Table::new(COLS, 0, Order::Asc);
        let mut rows: Vec<Row> = (0..9).map(|n| row(&format!("user{n}"), Some(n))).collect();
        rows.push(row("a-very-long-user-name", Some(1)));
        t.set_rows(rows);
        assert_eq!(t.typical[0], 5);
        assert_eq!(t.content[0], 21);
    }

    #[test]
    fn rule_id_lists_are_cut_per_id() {
        let s = "role-trusts-anyone role-trusts-outside-org";
        assert_eq!(truncate_list(s, 50), s);
        assert_eq!(truncate_list(s, 21), "role…nyone role…e-org");
        assert_eq!(truncate_list("role-trusts-anyone", 8), "rol…yone");
        // No room for 7 cells each: the rest are counted.
        assert_eq!(truncate_list(s, 12), "role…yone +1");
        assert_ne!(
            truncate_list("role-trusts-anyone", 9),
            truncate_list("role-trusts-outside-org", 9)
        );
    }

    #[test]
    fn hidden_columns_are_not_drawn_and_the_sort_skips_them() {
        let mut t = Table::new(COLS, 0, Order::Asc);
        t.set_rows(vec![row("alice", Some(3)), row("bob", Some(1))]);
        t.hide(&["NAME"]);
        assert_eq!(t.sort().0, "AGE");
        let area = Rect::new(0, 0, 40, 5);
        let mut buf = Buffer::empty(area);
        t.render(area, &mut buf, Line::from("t"), "none", &Theme { no_color: true });
        let header: String = (0..40).map(|x| buf[(x, 1)].symbol()).collect();
        assert!(!header.contains("NAME") && header.contains("AGE"), "{header}");
        let body: String = (0..40).map(|x| buf[(x, 2)].symbol()).collect();
        // Sorted by AGE, oldest first: alice, her name only in her NOTE (`note alice`).
        assert_eq!(body.matches("alice").count(), 1, "{body}");
        // The filter still reads the hidden cells.
        t.set_filter("bob");
        assert_eq!(t.counts().0, 1);
    }

    #[test]
    fn identifiers_are_cut_in_the_middle_so_they_stay_apart() {
        assert_eq!(truncate_middle("acme-sandbox-research", 16), "acme-sa…research");
        assert_eq!(truncate_middle("acme-sandbox-hackathon", 16), "acme-sa…ackathon");
        assert_eq!(truncate_middle("short", 16), "short");
        assert_eq!(truncate_middle("abcdef", 2), "a…");
    }

    #[test]
    fn truncation_marks_the_cut() {
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("abc", 4), "abc");
        assert_eq!(truncate("abc", 0), "");
    }

    #[test]
    fn scroll_moves_only_when_selection_leaves_the_window() {
        assert_eq!(scroll_top(0, 10, 5, 100), 0);
        assert_eq!(scroll_top(0, 10, 10, 100), 1);
        assert_eq!(scroll_top(20, 10, 15, 100), 15);
        assert_eq!(scroll_top(95, 10, 99, 100), 90);
    }
}
