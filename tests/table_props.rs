//! Property test of column fitting: for any columns, contents and screen width, an
//! identifier column is cut only when no other shown column has blank room (no blank room at
//! the right, short and text columns at their floor, numbers and other identifiers no wider
//! than their content), identifiers of one priority share the room evenly, a short column
//! is whole or not shown, and the shown columns fit the width.

use keytriage::tui::table::{Column, Kind, col, fit_columns, ident, num, text};
use proptest::prelude::*;

fn column() -> impl Strategy<Value = Column> {
    (0u8..4, 1u16..24, 0u16..20, 0u8..7).prop_map(|(kind, min, extra, priority)| match kind {
        0 => ident("ID", min, priority),
        1 => num("N", min, priority),
        2 => text("TEXT", min, priority),
        _ => col("SHORT", min, min + extra, priority),
    })
}

/// What a column can use: its content, capped at `max` for short columns.
fn usable(c: &Column, want: u16) -> u16 {
    let want = want.max(1);
    match c.kind {
        Kind::Short => want.min(c.max.max(c.min)),
        _ => want,
    }
}

proptest! {
    // Cheap cases (0.1 s for 20,000): enough to meet two identifiers of one priority cut.
    #![proptest_config(ProptestConfig { cases: 20_000, ..ProptestConfig::default() })]

    #[test]
    fn no_identifier_is_cut_while_another_column_has_room(
        cols in prop::collection::vec(column(), 1..12),
        wants in prop::collection::vec(1u16..60, 12),
        width in 0u16..260,
    ) {
        let shown = fit_columns(&cols, &wants, width);
        prop_assert!(!shown.is_empty());
        if shown.len() > 1 {
            let used: u32 = shown.iter().map(|&(_, w)| u32::from(w)).sum::<u32>() + shown.len() as u32 - 1;
            prop_assert!(used <= u32::from(width), "{used} cells used of {width}");
        }
        let used: u32 = shown.iter().map(|&(_, w)| u32::from(w)).sum::<u32>() + shown.len() as u32 - 1;
        let floor = |d: usize| match cols[d].kind {
            Kind::Short => usable(&cols[d], wants[d]),
            _ => cols[d].min.min(usable(&cols[d], wants[d])),
        };
        // A short word is never cut (unless it alone is wider than the screen).
        for &(c, w) in &shown {
            if cols[c].kind == Kind::Short && shown.len() > 1 {
                prop_assert_eq!(w, usable(&cols[c], wants[c]), "short column {} cut", c);
            }
        }
        for &(c, w) in &shown {
            if cols[c].kind == Kind::Ident && w < usable(&cols[c], wants[c]) {
                // No blank room at the right while an identifier is cut.
                prop_assert_eq!(used, u32::from(width), "column {} cut to {} with room left", c, w);
                for &(d, wd) in &shown {
                    prop_assert!(
                        d == c || wd <= usable(&cols[d], wants[d]),
                        "column {c} cut to {w} of {} while column {d} has {wd} for {}",
                        wants[c], wants[d]
                    );
                    // Short and long-text columns give all their room above their floor first.
                    if matches!(cols[d].kind, Kind::Short | Kind::Text) {
                        prop_assert_eq!(wd, floor(d), "column {} cut while column {} is above its floor", c, d);
                    }
                    // Identifiers of equal priority share evenly: none is more than a cell
                    // wider than a cut one, unless its floor holds it there.
                    if cols[d].kind == Kind::Ident && cols[d].priority == cols[c].priority {
                        prop_assert!(
                            wd <= (w + 1).max(floor(d)),
                            "column {c} cut to {w} while column {d} of the same priority has {wd}"
                        );
                    }
                }
            }
        }
    }
}
