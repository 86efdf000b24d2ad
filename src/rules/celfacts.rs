//! A node's facts lent to CEL field by field.
//!
//! This module owns [`LazyStruct`]: the CEL map [`super::celval::to_val`] makes of a fact
//! struct, with each top-level field converted the first time a condition reads it. A node's
//! facts hold a value per in-scope key four times over, its ports and its kernel, but a rule
//! reads a handful of them; converting all of them for every node was a tenth of judging a
//! `sysctl -a` dump. CEL resolves a qualified name such as `node.kernel.release` by asking for
//! the longest variable it names first (`node.kernel.release`, then `node.kernel`, then
//! `node`): `rules::eval::Vars` answers the longest name with the value it names
//! ([`LazyStruct::get`]: the field's own conversion, then the keys of its maps, as CEL would
//! select them), and `node` alone (a field the struct does not have, iteration, `in`, `size`, a
//! whole node in a message) with the whole map, made once when first needed. Either way the
//! value is the one `to_val` gives: the tests hold every field and every such use to it.
//!
//! A struct's field names are found once per type ([`FieldLayout`]), from the first value lent:
//! serde's derive writes every field of a struct under its static name whatever the value, and
//! the types lent here have no attribute that skips one (a test holds every sample to it). Found
//! again for every hop, with their check for duplicates, they were a twentieth of judging a
//! topology.

use super::celval::{to_val, Error};
use cel::common::types::{CelOptional, CelString};
use cel::common::value::{CowVal, Val};
use serde::ser::{self, Impossible, Serialize};
use std::fmt;
use std::marker::PhantomData;
use std::sync::{Arc, OnceLock};

type Boxed = Box<dyn Val>;

/// A fact struct whose fields can be converted one at a time.
trait Fields: Send + Sync {
    /// The CEL value of the field at `index` in serde's order (`None` past the last one).
    fn field(&self, index: usize) -> Option<Boxed>;
    /// The CEL map of the whole struct.
    fn whole(&self) -> Boxed;
}

impl<T: Serialize + Send + Sync> Fields for T {
    fn field(&self, index: usize) -> Option<Boxed> {
        let mut found = None;
        let done = self.serialize(FieldSerializer {
            want: Some(index),
            at: 0,
            names: &mut Vec::new(),
            found: &mut found,
        });
        // The serializer stops serde's walk with an error once it has the field.
        if found.is_none() {
            done.expect("facts are plain data");
        }
        found
    }

    fn whole(&self) -> Boxed {
        to_val(self).expect("facts are plain data")
    }
}

/// The field names of a struct type, in serde's order, and where each one is.
#[derive(Debug)]
struct Layout {
    names: Vec<&'static str>,
    index: foldhash::HashMap<&'static str, usize>,
}

impl Layout {
    /// The layout of `facts`; `None` when serde does not give it as a struct of distinct field
    /// names (its CEL form is then made whole, as `to_val` makes it).
    fn of<T: Serialize + ?Sized>(facts: &T) -> Option<Layout> {
        let names = names_of(facts)?;
        let index: foldhash::HashMap<&'static str, usize> =
            names.iter().enumerate().map(|(i, n)| (*n, i)).collect();
        // A name written twice makes a map of fewer entries: leave such a value to `to_val`.
        (index.len() == names.len()).then_some(Layout { names, index })
    }
}

/// The field names serde gives for `facts`, in order (`None`: not a struct).
pub(super) fn names_of<T: Serialize + ?Sized>(facts: &T) -> Option<Vec<&'static str>> {
    let mut names = Vec::new();
    facts
        .serialize(FieldSerializer {
            want: None,
            at: 0,
            names: &mut names,
            found: &mut None,
        })
        .ok()?;
    Some(names)
}

/// The field names of the fact struct `T`, found from the first value lent (see the module's
/// documentation); a `static` per type.
pub struct FieldLayout<T> {
    layout: OnceLock<Option<Layout>>,
    of: PhantomData<fn() -> T>,
}

impl<T> FieldLayout<T> {
    pub const fn new() -> FieldLayout<T> {
        FieldLayout {
            layout: OnceLock::new(),
            of: PhantomData,
        }
    }
}

/// A fact struct as CEL reads it: see the module's documentation.
pub struct LazyStruct {
    facts: Arc<dyn Fields>,
    layout: &'static Layout,
    /// Each field's value once read, in the layout's order.
    fields: Box<[OnceLock<Boxed>]>,
    /// The whole map, once something needs it.
    whole: OnceLock<Boxed>,
}

impl LazyStruct {
    /// The lazy form of `facts`, whose type's field names `layout` keeps; `None` when serde
    /// does not give it as a struct of distinct field names (its CEL form is then made whole,
    /// as `to_val` makes it).
    pub fn new<T: Serialize + Send + Sync + 'static>(
        facts: Arc<T>,
        layout: &'static FieldLayout<T>,
    ) -> Option<LazyStruct> {
        let layout = layout.layout.get_or_init(|| Layout::of(&*facts)).as_ref()?;
        debug_assert_eq!(
            names_of(&*facts).as_ref(),
            Some(&layout.names),
            "a value of the type gives other field names"
        );
        Some(LazyStruct {
            facts,
            layout,
            fields: layout.names.iter().map(|_| OnceLock::new()).collect(),
            whole: OnceLock::new(),
        })
    }

    /// The whole map, made on first use.
    pub fn whole(&self) -> &(dyn Val + 'static) {
        self.whole.get_or_init(|| self.facts.whole()).as_ref()
    }

    /// Whether the whole map has been made.
    #[cfg(test)]
    pub fn made_whole(&self) -> bool {
        self.whole.get().is_some()
    }

    /// The field names, in serde's order.
    #[cfg(test)]
    pub fn names(&self) -> &[&'static str] {
        &self.layout.names
    }

    /// The value of the field named `name`, converted on first read; `None` when the struct
    /// has no such field.
    pub fn field(&self, name: &str) -> Option<&(dyn Val + 'static)> {
        let &i = self.layout.index.get(name)?;
        let v = self.fields[i]
            .get_or_init(|| self.facts.field(i).expect("a field of the struct's layout"));
        Some(v.as_ref())
    }

    /// The value at `path` below the struct: a field name, then keys of the maps it holds,
    /// separated by dots (`kernel.release`), each selected as CEL selects a field of a map.
    /// `None` when a step is missing or is not a plain map lookup; CEL then asks for a shorter
    /// name and selects the rest itself, with its own errors, so a value given here is always
    /// the one CEL's selection would give.
    pub fn get(&self, path: &str) -> Option<&(dyn Val + 'static)> {
        let (field, mut rest) = split_name(path);
        let mut v = self.field(field)?;
        while let Some(path) = rest {
            let (step, more) = split_name(path);
            v = select(v, step)?;
            rest = more;
        }
        Some(v)
    }
}

/// The first name of a qualified one and the rest after its dot (`None` without a dot). Names
/// are short: a byte loop is cheaper than `str::split_once`'s searcher.
pub fn split_name(name: &str) -> (&str, Option<&str>) {
    match name.bytes().position(|b| b == b'.') {
        Some(at) => (&name[..at], Some(&name[at + 1..])),
        None => (name, None),
    }
}

/// `v.field` as CEL selects it on a map it does not own (`select_field` on a borrowed value
/// that is not an optional: the map's `Indexer::get` with the name as a string), when that
/// gives a value borrowed from `v`.
fn select<'a>(v: &'a (dyn Val + 'static), field: &str) -> Option<&'a (dyn Val + 'static)> {
    if v.downcast_ref::<CelOptional>().is_some() {
        return None;
    }
    match v.as_indexer()?.get(&CelString::from(field)) {
        Ok(CowVal::Borrowed(e)) => Some(e),
        _ => None,
    }
}

impl fmt::Debug for LazyStruct {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LazyStruct")
            .field("fields", &self.layout.names)
            .finish()
    }
}

/// Serialises a struct to learn its fields' names (`want: None`) or to convert one of them:
/// anything but a struct is an error, which [`Layout::of`] takes for "make it whole".
struct FieldSerializer<'a> {
    /// The index of the field to convert (`None`: learn the names).
    want: Option<usize>,
    /// The index of the next field.
    at: usize,
    names: &'a mut Vec<&'static str>,
    found: &'a mut Option<Boxed>,
}

impl ser::SerializeStruct for FieldSerializer<'_> {
    type Ok = ();
    type Error = Error;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        match self.want {
            None => self.names.push(key),
            Some(want) if want == self.at => {
                *self.found = Some(to_val(value)?);
                // The fields after it are not looked at: a hop has thirty, a rule reads a few.
                return Err(ser::Error::custom("found"));
            }
            Some(_) => {}
        }
        self.at += 1;
        Ok(())
    }

    fn end(self) -> Result<(), Error> {
        Ok(())
    }
}

fn not_a_struct() -> Error {
    ser::Error::custom("not a struct")
}

macro_rules! not_a_struct {
    ($($name:ident($($arg:ty),*)),* $(,)?) => {
        $(fn $name(self, $(_: $arg),*) -> Result<(), Error> {
            Err(not_a_struct())
        })*
    };
}

impl<'a> ser::Serializer for FieldSerializer<'a> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Impossible<(), Error>;
    type SerializeTuple = Impossible<(), Error>;
    type SerializeTupleStruct = Impossible<(), Error>;
    type SerializeTupleVariant = Impossible<(), Error>;
    type SerializeMap = Impossible<(), Error>;
    type SerializeStruct = FieldSerializer<'a>;
    type SerializeStructVariant = Impossible<(), Error>;

    not_a_struct! {
        serialize_bool(bool), serialize_i8(i8), serialize_i16(i16), serialize_i32(i32),
        serialize_i64(i64), serialize_u8(u8), serialize_u16(u16), serialize_u32(u32),
        serialize_u64(u64), serialize_f32(f32), serialize_f64(f64), serialize_char(char),
        serialize_str(&str), serialize_bytes(&[u8]), serialize_none(), serialize_unit(),
        serialize_unit_struct(&'static str),
        serialize_unit_variant(&'static str, u32, &'static str),
    }

    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<(), Error> {
        Err(not_a_struct())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: &T,
    ) -> Result<(), Error> {
        Err(not_a_struct())
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), Error> {
        Err(not_a_struct())
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Error> {
        Err(not_a_struct())
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Error> {
        Err(not_a_struct())
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, Error> {
        Err(not_a_struct())
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        Err(not_a_struct())
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Error> {
        Err(not_a_struct())
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self, Error> {
        Ok(self)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        Err(not_a_struct())
    }
}
