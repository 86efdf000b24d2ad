//! A node's facts lent to CEL field by field.
//!
//! This module owns [`LazyStruct`]: the CEL map [`super::celval::to_val`] makes of a fact
//! struct, with each top-level field converted the first time a condition reads it. A node's
//! facts hold a value per in-scope key four times over, its ports and its kernel, but a rule
//! reads a handful of them; converting all of them for every node was a tenth of judging a
//! `sysctl -a` dump. CEL resolves a qualified name such as `node.kernel.release` by asking for
//! the longest variable it names first (`node.kernel.release`, then `node.kernel`, then
//! `node`): `rules::eval::Bound` answers `node.kernel` with the field's own conversion, and
//! `node` alone (a field the struct does not have, iteration, `in`, `size`, a whole node in a
//! message) with the whole map, made once when first needed. Either way the value is the one
//! `to_val` gives: the tests hold every field and every such use to it.

use super::celval::{to_val, Error};
use cel::common::value::Val;
use serde::ser::{self, Impossible, Serialize};
use std::fmt;
use std::sync::{Arc, OnceLock};

type Boxed = Box<dyn Val>;

/// A fact struct whose fields can be converted one at a time.
trait Fields: Send + Sync {
    /// The CEL value of the field `name` (`None` when the struct has no such field).
    fn field(&self, name: &str) -> Option<Boxed>;
    /// The CEL map of the whole struct.
    fn whole(&self) -> Boxed;
}

impl<T: Serialize + Send + Sync> Fields for T {
    fn field(&self, name: &str) -> Option<Boxed> {
        let mut found = None;
        self.serialize(FieldSerializer {
            want: Some(name),
            names: &mut Vec::new(),
            found: &mut found,
        })
        .expect("facts are plain data");
        found
    }

    fn whole(&self) -> Boxed {
        to_val(self).expect("facts are plain data")
    }
}

/// A fact struct as CEL reads it: see the module's documentation.
pub struct LazyStruct {
    facts: Arc<dyn Fields>,
    /// The struct's fields as serde gives them, in order, and each one's value once read.
    fields: Vec<(&'static str, OnceLock<Boxed>)>,
    /// The whole map, once something needs it.
    whole: OnceLock<Boxed>,
}

impl LazyStruct {
    /// The lazy form of `facts`; `None` when serde does not give it as a struct of distinct
    /// field names (its CEL form is then made whole, as `to_val` makes it).
    pub fn new<T: Serialize + Send + Sync + 'static>(facts: Arc<T>) -> Option<LazyStruct> {
        let mut names = Vec::new();
        facts
            .serialize(FieldSerializer {
                want: None,
                names: &mut names,
                found: &mut None,
            })
            .ok()?;
        // A name written twice makes a map of fewer entries: leave such a value to `to_val`.
        let mut sorted = names.clone();
        sorted.sort_unstable();
        if sorted.windows(2).any(|w| w[0] == w[1]) {
            return None;
        }
        Some(LazyStruct {
            facts,
            fields: names.into_iter().map(|n| (n, OnceLock::new())).collect(),
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

    /// The value of the field named `name`, converted on first read; `None` when the struct
    /// has no such field.
    pub fn field(&self, name: &str) -> Option<&(dyn Val + 'static)> {
        let (_, cell) = self.fields.iter().find(|(n, _)| *n == name)?;
        let v = cell.get_or_init(|| {
            self.facts
                .field(name)
                .expect("a field the struct gave when it was lent")
        });
        Some(v.as_ref())
    }
}

impl fmt::Debug for LazyStruct {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.fields.iter().map(|(n, _)| *n).collect();
        f.debug_struct("LazyStruct")
            .field("fields", &names)
            .finish()
    }
}

/// Serialises a struct to learn its fields' names (`want: None`) or to convert one of them:
/// anything but a struct is an error, which [`LazyStruct::new`] takes for "make it whole".
struct FieldSerializer<'a> {
    want: Option<&'a str>,
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
            Some(want) if want == key && self.found.is_none() => *self.found = Some(to_val(value)?),
            Some(_) => {}
        }
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
