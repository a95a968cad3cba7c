//! Finds where [`Path`]s sit in the RON text, using ron's own parser.
//!
//! ron reports positions only with errors and has no spanned values, but it
//! hands out the raw text of a value (`ron::value::RawValue`) as a slice of
//! the input: where that slice starts is where the value is written. So one
//! walk over the text follows every path at once: it steps into the values
//! on the way to a path and takes the raw text of the value at its end.
//!
//! Taking a value consumes it, so a value that ends one path and lies on the
//! way to another (a service named by one problem, its real server by
//! another) is stepped into and taken on the next walk; so is the nearest
//! written ancestor of a path whose value is not in the text (a default).
//! The number of walks is bounded by the depth of the paths, never by how
//! many there are: a file with thousands of problems costs a few parses, not
//! one per problem. ron stays the only thing that understands RON syntax.
//!
//! ron checks a raw value again on its own, without our extensions, and
//! refuses one written `Some(field: ...)`. Such a value is placed by the old
//! locator (`arrive`, a parse per path), for the first few of them; past
//! those, by its nearest placed ancestor, so that the cost stays bounded.

/// The visits of a value no path goes into (scalars, enum variants, none):
/// a walk ends there. One list for both walks (`Locate` here, `Walk` in
/// `arrive`).
macro_rules! scalars_end_the_walk {
    () => {
        fn visit_enum<A: de::EnumAccess<'de>>(self, _: A) -> Result<(), A::Error> {
            Ok(())
        }
        fn visit_unit<E>(self) -> Result<(), E> {
            Ok(())
        }
        fn visit_none<E>(self) -> Result<(), E> {
            Ok(())
        }
        fn visit_bool<E>(self, _: bool) -> Result<(), E> {
            Ok(())
        }
        fn visit_i64<E>(self, _: i64) -> Result<(), E> {
            Ok(())
        }
        fn visit_u64<E>(self, _: u64) -> Result<(), E> {
            Ok(())
        }
        fn visit_i128<E>(self, _: i128) -> Result<(), E> {
            Ok(())
        }
        fn visit_u128<E>(self, _: u128) -> Result<(), E> {
            Ok(())
        }
        fn visit_f64<E>(self, _: f64) -> Result<(), E> {
            Ok(())
        }
        fn visit_str<E>(self, _: &str) -> Result<(), E> {
            Ok(())
        }
        fn visit_char<E>(self, _: char) -> Result<(), E> {
            Ok(())
        }
        fn visit_bytes<E>(self, _: &[u8]) -> Result<(), E> {
            Ok(())
        }
    };
}

mod arrive;

use super::path::{Path, Seg};
use ron::value::RawValue;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use std::collections::HashMap;
use std::fmt;

/// A 1-based line and column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

/// The position of the value at each path, or of its nearest written
/// ancestor when the value itself is not in the text (a default). None only
/// if the text does not parse, which cannot happen for text already read.
pub fn locate_all(text: &str, options: &ron::Options, paths: &[&Path]) -> Vec<Option<Position>> {
    locate_counted(text, options, paths).0
}

/// Values ron refuses to hand out raw that are placed by a parse each.
const ONE_BY_ONE: usize = 16;

/// [`locate_all`], with the number of parses of the text it took.
fn locate_counted(text: &str, options: &ron::Options, paths: &[&Path]) -> (Vec<Option<Position>>, usize) {
    let Some(root_offset) = top_value_offset(text, options) else {
        return (vec![None; paths.len()], 0);
    };
    let mut tree = Tree::new(root_offset);
    let mut targets: Vec<usize> = paths.iter().map(|p| tree.insert(p.segments())).collect();
    // Each walk either places a target, or moves it up to an ancestor: a
    // target is walked at most twice per level of its path.
    let limit = 2 * paths.iter().map(|p| p.segments().len()).max().unwrap_or(0) + 2;
    let mut walks = 0;
    while walks < limit {
        let pending: Vec<usize> = targets.iter().copied().filter(|&t| tree.is_pending(t)).collect();
        if pending.is_empty() {
            break;
        }
        tree.plan(&pending);
        let walked = options.from_str_seed(text, Walk { tree: &mut tree, node: ROOT, base: text.as_ptr() as usize });
        walks += 1;
        if walked.is_err() {
            return (vec![None; paths.len()], walks);
        }
        for target in targets.iter_mut() {
            let node = &tree.nodes[*target];
            let stepped_in = node.plan == Plan::StepIn && node.visited;
            if node.offset.is_none() && !stepped_in && !node.refused {
                *target = tree.nearest_visited_ancestor(*target);
            }
        }
    }
    let mut refused: Vec<usize> =
        targets.iter().copied().filter(|&t| tree.nodes[t].refused && tree.nodes[t].offset.is_none()).collect();
    refused.sort_unstable();
    refused.dedup();
    let one_by_one: HashMap<usize, Option<Position>> = refused
        .iter()
        .take(ONE_BY_ONE)
        .map(|&node| (node, arrive::locate_one(text, options, &tree.segments(node))))
        .collect();
    for target in targets.iter_mut() {
        if tree.nodes[*target].offset.is_none() && !one_by_one.contains_key(target) {
            *target = tree.nearest_placed_ancestor(*target);
        }
    }
    let offsets: Vec<Option<usize>> = targets.iter().map(|&t| tree.nodes[t].offset).collect();
    let placed = positions(text, &offsets);
    let found = targets.iter().zip(placed).map(|(t, p)| one_by_one.get(t).copied().unwrap_or(p)).collect();
    (found, walks + one_by_one.len())
}

/// Where the top-level value starts: after blank space, comments and
/// `#![enable(...)]` attributes.
fn top_value_offset(text: &str, options: &ron::Options) -> Option<usize> {
    let de = ron::de::Deserializer::from_str_with_options(text, options).ok()?;
    Some(text.len() - de.remainder().len())
}

/// The length of the comments a raw value starts with (ron keeps them in
/// it): the position is the value's, after them.
fn comments_before(raw: &str) -> usize {
    ron::de::Deserializer::from_str(raw).map_or(0, |de| raw.len() - de.remainder().len())
}

/// Line and column of each byte offset, in one sweep over the text.
fn positions(text: &str, offsets: &[Option<usize>]) -> Vec<Option<Position>> {
    let mut order: Vec<usize> = offsets.iter().flatten().copied().collect();
    order.sort_unstable();
    order.dedup();
    let mut at: HashMap<usize, Position> = HashMap::with_capacity(order.len());
    let (mut byte, mut line, mut column) = (0, 1, 1);
    for offset in order {
        for c in text.get(byte..offset).unwrap_or("").chars() {
            if c == '\n' {
                line += 1;
                column = 1;
            } else {
                column += 1;
            }
        }
        byte = offset;
        at.insert(offset, Position { line, column });
    }
    offsets.iter().map(|o| o.and_then(|o| at.get(&o).copied())).collect()
}

const ROOT: usize = 0;

/// What one walk does with the value at a node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Plan {
    /// Not wanted this walk: skipped as any value.
    Skip,
    /// On the way to a wanted value: walked into.
    StepIn,
    /// Wanted: its raw text is taken, which places it.
    Take,
}

/// The paths as a tree, each node a value some path passes or ends at.
struct Tree {
    nodes: Vec<Node>,
}

struct Node {
    parent: usize,
    /// How the parent reaches this node (the root's is never read).
    seg: Seg,
    /// Few per struct: searched in order.
    fields: Vec<(&'static str, usize)>,
    /// Up to one per element of a list.
    indices: HashMap<usize, usize>,
    /// Byte offset of the value in the text, once found.
    offset: Option<usize>,
    /// Whether a walk has met the value in the text.
    visited: bool,
    /// Whether ron refused to hand out the value's raw text.
    refused: bool,
    plan: Plan,
}

impl Node {
    fn new(parent: usize, seg: Seg) -> Node {
        Node {
            parent,
            seg,
            fields: Vec::new(),
            indices: HashMap::new(),
            offset: None,
            visited: false,
            refused: false,
            plan: Plan::Skip,
        }
    }
}

impl Tree {
    fn new(root_offset: usize) -> Tree {
        let mut root = Node::new(ROOT, Seg::Index(0));
        root.offset = Some(root_offset);
        root.visited = true;
        Tree { nodes: vec![root] }
    }

    fn insert(&mut self, segs: &[Seg]) -> usize {
        let mut at = ROOT;
        for seg in segs {
            let found = match seg {
                Seg::Field(name) => self.nodes[at].fields.iter().find(|(f, _)| f == name).map(|&(_, n)| n),
                Seg::Index(i) => self.nodes[at].indices.get(i).copied(),
            };
            at = found.unwrap_or_else(|| {
                let id = self.nodes.len();
                self.nodes.push(Node::new(at, *seg));
                match seg {
                    Seg::Field(name) => self.nodes[at].fields.push((name, id)),
                    Seg::Index(i) => drop(self.nodes[at].indices.insert(*i, id)),
                }
                id
            });
        }
        at
    }

    /// Plans the next walk: take each pending node, unless another pending
    /// node lies below it; step into every node on the way.
    fn plan(&mut self, pending: &[usize]) {
        for node in &mut self.nodes {
            node.plan = Plan::Skip;
        }
        for &target in pending {
            if self.nodes[target].plan == Plan::Skip {
                self.nodes[target].plan = Plan::Take;
            }
            let mut at = target;
            while at != ROOT {
                at = self.nodes[at].parent;
                if self.nodes[at].plan == Plan::StepIn {
                    break;
                }
                self.nodes[at].plan = Plan::StepIn;
            }
        }
    }

    /// Whether a walk may still place the node.
    fn is_pending(&self, node: usize) -> bool {
        self.nodes[node].offset.is_none() && !self.nodes[node].refused
    }

    /// The path from the root to a node.
    fn segments(&self, node: usize) -> Vec<Seg> {
        let mut segs = Vec::new();
        let mut at = node;
        while at != ROOT {
            segs.push(self.nodes[at].seg);
            at = self.nodes[at].parent;
        }
        segs.reverse();
        segs
    }

    /// The closest node above this one that has a position; the root at worst.
    fn nearest_placed_ancestor(&self, node: usize) -> usize {
        let mut at = self.nodes[node].parent;
        while at != ROOT && self.nodes[at].offset.is_none() {
            at = self.nodes[at].parent;
        }
        at
    }

    /// The closest node above this one that is written in the text; the root at worst.
    fn nearest_visited_ancestor(&self, node: usize) -> usize {
        let mut at = self.nodes[node].parent;
        while at != ROOT && !self.nodes[at].visited {
            at = self.nodes[at].parent;
        }
        at
    }
}

/// One walk from one node down.
struct Walk<'t> {
    tree: &'t mut Tree,
    node: usize,
    /// Where the text starts in memory, to turn a raw value into an offset.
    base: usize,
}

impl Walk<'_> {
    fn child(&mut self, node: usize) -> Walk<'_> {
        Walk { tree: self.tree, node, base: self.base }
    }
}

impl<'de> DeserializeSeed<'de> for Walk<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        let node = &mut self.tree.nodes[self.node];
        node.visited = true;
        match node.plan {
            Plan::StepIn => d.deserialize_any(self),
            Plan::Take => {
                // ron has read past the value before it checks the raw text
                // again on its own (without our extensions); should that
                // check refuse, the walk goes on and the value is placed
                // another way.
                match <&RawValue>::deserialize(d) {
                    Ok(raw) => {
                        let raw = raw.get_ron();
                        let offset = (raw.as_ptr() as usize).checked_sub(self.base);
                        self.tree.nodes[self.node].offset = offset.map(|o| o + comments_before(raw));
                    }
                    Err(_) => self.tree.nodes[self.node].refused = true,
                }
                Ok(())
            }
            Plan::Skip => IgnoredAny::deserialize(d).map(drop),
        }
    }
}

impl<'de> Visitor<'de> for Walk<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any RON value")
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            let found = self.tree.nodes[self.node].fields.iter().find(|(f, _)| *f == key).map(|&(_, n)| n);
            match found.filter(|&n| self.tree.nodes[n].plan != Plan::Skip) {
                Some(n) => map.next_value_seed(self.child(n))?,
                None => map.next_value::<IgnoredAny>().map(drop)?,
            }
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        let mut i = 0;
        loop {
            let found = self.tree.nodes[self.node].indices.get(&i).copied();
            let more = match found.filter(|&n| self.tree.nodes[n].plan != Plan::Skip) {
                Some(n) => seq.next_element_seed(self.child(n))?.is_some(),
                None => seq.next_element::<IgnoredAny>()?.is_some(),
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

#[cfg(test)]
mod tests;
