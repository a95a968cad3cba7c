//! The locator the walks replaced, kept for a value the walks cannot take:
//! one parse per path, with a seed that walks down the path and fails on
//! purpose where it arrives, so that ron's error position is the value's.
//! It walks up the path until something is found, as the walks do.

use crate::path::Seg;
use crate::Position;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::fmt;

const ARRIVED: &str = "\u{0}lvs-config: arrived at the path";

/// The position of the value at `segs`, or of its nearest written ancestor.
pub fn locate_one(text: &str, options: &ron::Options, segs: &[Seg]) -> Option<Position> {
    (0..=segs.len()).rev().find_map(|len| match options.from_str_seed(text, Walk { path: &segs[..len] }) {
        Err(e) if e.code.to_string() == ARRIVED => {
            Some(skip_blank(text, Position { line: e.span.start.line, column: e.span.start.col }))
        }
        _ => None,
    })
}

/// ron stops before the blank space that precedes a value; move to the value.
fn skip_blank(text: &str, at: Position) -> Position {
    let (mut line, mut column) = (at.line, at.column);
    let mut lines = text.lines().skip(line - 1);
    let mut current = lines.next().unwrap_or("");
    loop {
        let rest: String = current.chars().skip(column - 1).collect();
        let skipped = rest.chars().take_while(|c| c.is_whitespace()).count();
        if skipped < rest.chars().count() {
            return Position { line, column: column + skipped };
        }
        match lines.next() {
            Some(next) => (current, line, column) = (next, line + 1, 1),
            None => return at,
        }
    }
}

struct Walk<'p> {
    path: &'p [Seg],
}

impl<'de> DeserializeSeed<'de> for Walk<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        if self.path.is_empty() {
            return Err(de::Error::custom(ARRIVED));
        }
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any RON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            match self.path.first() {
                Some(Seg::Field(f)) if *f == key => map.next_value_seed(Walk { path: &self.path[1..] })?,
                _ => map.next_value::<IgnoredAny>().map(drop)?,
            }
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut i = 0;
        loop {
            let more = match self.path.first() {
                Some(Seg::Index(n)) if *n == i => seq.next_element_seed(Walk { path: &self.path[1..] })?.is_some(),
                _ => seq.next_element::<IgnoredAny>()?.is_some(),
            };
            if !more {
                return Ok(());
            }
            i += 1;
        }
    }

    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }

    fn visit_newtype_struct<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }

    scalars_end_the_walk!();
}
