//! serde over the spanned YAML tree: each file format is described once, as raw types that derive
//! both `Deserialize` and `JsonSchema`, and read through this [`Deserializer`].
//!
//! This module owns the first phase of loading a format, its *shape*: which fields a mapping may
//! have, and whether each value is a scalar, a list or a mapping. It never fails and never stops
//! early. Every value is read into a [`Field`], which remembers where it was written, what it
//! was (for "expected X, found Y"), whether it was a plain scalar, and the typed value when the
//! shape fitted; a key the raw type does not declare is recorded as an [`UnknownField`] and
//! skipped. The format's validation step (the second phase, *meaning*) then turns all of that into
//! diagnostics in its own words, with the places kept here. Duplicate keys, aliases and the
//! depth and size limits were already dealt with when the tree was built (`yaml::parse`), so
//! nothing here can loop or expand.
//!
//! The raw types hold scalars as the text written (a port is the text `80`, a kernel release the
//! text `6.8`): whether text means something is the validation step's question, and its answer
//! needs the text ("`http` is not a port number"). Their schemas say what the text must look like.
//!
//! How a [`Field`] gets its place: like `toml`'s `Spanned`, its `Deserialize` asks for a struct
//! with a reserved name, and this deserializer answers with the node's place, then the value, then
//! (when the field asks) what the node was and its text. A null is handed to the value (a null list is an empty list, a null name a wrong type),
//! so a key written with no value is never taken for a missing one.

use super::{ScalarStyle, YamlNode};
use crate::code::Code;
use crate::source::{FileId, Span, Spanned};
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};
use serde::Deserialize;
use std::borrow::Cow;
use std::cell::RefCell;
use std::fmt;
use std::marker::PhantomData;

/// The struct name a [`Field`] asks for; no raw type can be named so.
const FIELD: &str = "$twlint::yaml::Field";
/// What [`FIELD`] carries, in order: file, start, end, plain, value, then what the node was and
/// the text of a scalar. The last two are asked for only when they can be needed (see
/// `FieldVisitor::visit_seq`), so a right file pays little for them: loading the shipped rules is
/// on every run's path.
const FIELD_PARTS: &[&str] = &["file", "start", "end", "plain", "value", "kind", "text"];

/// What a node was, as [`YamlNode::describe`] says it; passed through serde as its index.
const KINDS: [&str; 8] = [
    "a number",
    "a boolean",
    "a string",
    "a quoted string",
    "a block string",
    "a list",
    "a mapping",
    "nothing (null)",
];

fn kind_index(describe: &str) -> u8 {
    KINDS.iter().position(|k| *k == describe).unwrap_or(2) as u8
}

/// A value of a raw type, with where it was written and what it was.
#[derive(Debug, Clone, PartialEq)]
pub enum Field<T> {
    /// A required field that the mapping does not have (optional fields are `Option<Field<T>>`).
    Missing,
    Present {
        /// The value as written (a key's span for a mapping key).
        span: Span,
        /// What was written, for "expected X, found Y": "a number", "a list", ...
        found: &'static str,
        /// Whether it was a plain scalar: only those can be numbers or keywords.
        plain: bool,
        /// The value, when what was written has the shape `T` needs.
        value: Option<T>,
        /// A scalar's text when it did not fit `T` (an `ignore` entry written as a bare id).
        text: Option<String>,
    },
}

impl<T> Field<T> {
    pub fn span(&self) -> Option<Span> {
        match self {
            Field::Missing => None,
            Field::Present { span, .. } => Some(*span),
        }
    }

    /// The value with its place; `None` when missing or of the wrong shape.
    pub fn get(&self) -> Option<Spanned<&T>> {
        match self {
            Field::Present {
                span,
                value: Some(v),
                ..
            } => Some(Spanned::new(v, *span)),
            _ => None,
        }
    }

    /// The value as [`Field::get`], else the TW053 "expected `expected`, found ..." diagnostic
    /// with `help` for a value of the wrong shape (nothing for a missing one).
    fn expect(
        &self,
        expected: &str,
        help: &str,
        diags: &mut Vec<crate::diag::Diagnostic>,
    ) -> Option<Spanned<&T>> {
        match self {
            Field::Missing => None,
            Field::Present {
                span, found, value, ..
            } => match value {
                Some(v) => Some(Spanned::new(v, *span)),
                None => {
                    diags.push(wrong_type(*span, expected, found).with_help(help));
                    None
                }
            },
        }
    }

    /// A list or mapping; a scalar pushes TW053 .
    pub fn list(
        &self,
        expected: &str,
        diags: &mut Vec<crate::diag::Diagnostic>,
    ) -> Option<Spanned<&T>> {
        self.expect(expected, super::HELP_LIST, diags)
    }

    /// A mapping; anything else pushes TW053 (as `YamlNode::expect_mapping` words it).
    pub fn mapping(
        &self,
        expected: &str,
        diags: &mut Vec<crate::diag::Diagnostic>,
    ) -> Option<Spanned<&T>> {
        self.expect(expected, super::HELP_MAPPING, diags)
    }
}

impl<T> Field<T> {
    /// The text of a scalar written where a `T` belongs that is not a scalar.
    pub fn stray_scalar(&self) -> Option<Spanned<&str>> {
        match self {
            Field::Present {
                span,
                text: Some(t),
                ..
            } => Some(Spanned::new(t.as_str(), *span)),
            _ => None,
        }
    }
}

impl<T: AsRef<str>> Field<T> {
    /// A scalar in any style; anything else pushes TW053.
    pub fn scalar(
        &self,
        expected: &str,
        diags: &mut Vec<crate::diag::Diagnostic>,
    ) -> Option<Spanned<String>> {
        self.expect(expected, super::HELP_SCALAR, diags)
            .map(|s| Spanned::new(s.value.as_ref().to_string(), s.span))
    }

    /// A plain scalar (a number or a keyword); a quoted one, or anything that is not a scalar,
    /// pushes TW053.
    pub fn plain(
        &self,
        expected: &str,
        diags: &mut Vec<crate::diag::Diagnostic>,
    ) -> Option<Spanned<String>> {
        match self {
            Field::Present {
                span,
                found,
                plain: false,
                value: Some(_),
                ..
            } => {
                diags.push(wrong_type(*span, expected, found).with_help(super::HELP_PLAIN));
                None
            }
            _ => self.scalar(expected, diags),
        }
    }
}

fn wrong_type(span: Span, expected: &str, found: &str) -> crate::diag::Diagnostic {
    crate::diag::Diagnostic::error(Code::TW053, format!("expected {expected}, found {found}"))
        .at(span, format!("expected {expected}"))
}

/// A field's schema is its value's: a `Field` only adds where the value was written.
impl<T: JsonSchema> JsonSchema for Field<T> {
    fn inline_schema() -> bool {
        T::inline_schema()
    }
    fn schema_name() -> Cow<'static, str> {
        T::schema_name()
    }
    fn schema_id() -> Cow<'static, str> {
        T::schema_id()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        T::json_schema(generator)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Field<T> {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Through `deserialize_option` first: that is how serde asks a missing field for its
        // value, and the answer `None` is what makes it `Missing` instead of an error.
        deserializer.deserialize_option(FieldVisitor(PhantomData))
    }
}

struct FieldVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for FieldVisitor<T> {
    type Value = Field<T>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a YAML value read by twlint's YAML deserializer")
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Field::Missing)
    }

    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_struct(FIELD, FIELD_PARTS, self)
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let missing = || de::Error::custom("a field's place is incomplete");
        let file: u32 = seq.next_element()?.ok_or_else(missing)?;
        let start: usize = seq.next_element()?.ok_or_else(missing)?;
        let end: usize = seq.next_element()?.ok_or_else(missing)?;
        let plain: bool = seq.next_element()?.ok_or_else(missing)?;
        // The value's own error is the shape mismatch this field exists to record.
        let value = seq.next_element::<T>().ok().flatten();
        // What was written is needed when the value did not fit, or was quoted where a plain
        // scalar may be asked for (describing a quoted scalar is cheap; a plain one is parsed).
        let kind = if value.is_none() || !plain {
            seq.next_element::<u8>()?.ok_or_else(missing)?
        } else {
            0
        };
        let text = match value {
            None => seq.next_element::<String>()?,
            Some(_) => None,
        };
        Ok(Field::Present {
            span: Span::new(FileId(file), start, end),
            found: KINDS.get(kind as usize).copied().unwrap_or("a string"),
            plain,
            value,
            text,
        })
    }
}

/// A scalar kept as the text written, with a hand-written schema: what YAML may write there
/// (a kernel release is often written unquoted, which YAML reads as a number).
macro_rules! text_leaf {
    ($(#[$doc:meta])* $name:ident, $schema:tt) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, ::serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl ::schemars::JsonSchema for $name {
            fn schema_name() -> ::std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }
            fn json_schema(_: &mut ::schemars::SchemaGenerator) -> ::schemars::Schema {
                ::schemars::json_schema!($schema)
            }
        }
    };
}
pub(crate) use text_leaf;

text_leaf!(
    /// A kernel release as written (topology, rule examples, `.twlint.yaml`).
    KernelRelease,
    {
        "anyOf": [{"type": "string"}, {"format": "double", "type": "number"}],
        "description": "A kernel release such as \"6.8\" or \"5.15.0-91-generic\"; quote it, or `6.10` reads as 6.1."
    }
);

/// A mapping whose keys are data (sysctl keys, rule ids), in file order, keys with their places.
#[derive(Debug, Clone, PartialEq)]
pub struct Entries<V>(pub Vec<(Spanned<String>, Field<V>)>);

impl<'de, V: Deserialize<'de>> Deserialize<'de> for Entries<V> {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EntriesVisitor<V>(PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for EntriesVisitor<V> {
            type Value = Entries<V>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a mapping")
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(key) = map.next_key::<Field<String>>()? {
                    let value = map.next_value::<Field<V>>()?;
                    if let Some(key) = key.get() {
                        out.push((Spanned::new(key.value.clone(), key.span), value));
                    }
                }
                Ok(Entries(out))
            }
        }
        deserializer.deserialize_map(EntriesVisitor(PhantomData))
    }
}

/// An object whose values are `V`s, as a `BTreeMap<String, V>` is described.
impl<V: JsonSchema> JsonSchema for Entries<V> {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        std::collections::BTreeMap::<String, V>::schema_name()
    }
    fn schema_id() -> Cow<'static, str> {
        std::collections::BTreeMap::<String, V>::schema_id()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        std::collections::BTreeMap::<String, V>::json_schema(generator)
    }
}

/// A key a raw type does not declare, for the validation step to report in its own words.
#[derive(Debug, Clone, PartialEq)]
pub struct UnknownField {
    pub key: Spanned<String>,
    /// The fields the raw type declares, in declaration order.
    pub fields: &'static [&'static str],
    /// The span of the mapping it was written in.
    pub within: Span,
    /// Its value's span and what it was ("a list", ...): a format may still check its shape.
    pub value: (Span, &'static str),
}

impl UnknownField {
    /// TW053 "expected `expected`, found ..." when the value is not a scalar (for a format that
    /// checks the shape of every value of a mapping, declared or not).
    pub fn expect_scalar(&self, expected: &str) -> Option<crate::diag::Diagnostic> {
        let (span, found) = self.value;
        // The first five kinds are scalars.
        (!KINDS[..5].contains(&found))
            .then(|| wrong_type(span, expected, found).with_help(super::HELP_SCALAR))
    }
}

/// Reads `node` as a `T`; never fails (a wrong shape is a [`Field`] without a value). Also
/// returns the unknown keys, in the order met (file order, outer mappings before inner ones).
pub fn read<'a, T: Deserialize<'a>>(node: &'a YamlNode) -> (Field<T>, Vec<UnknownField>) {
    let unknown = RefCell::new(Vec::new());
    let field = Field::deserialize(Deserializer {
        node,
        unknown: &unknown,
    })
    // Unreachable: `Field` records every error of its value instead of returning it.
    .unwrap_or(Field::Missing);
    (field, unknown.into_inner())
}

/// The error of a value whose shape does not fit; [`Field`] records that it happened, not what
/// it says, so the message is only for `Debug`.
#[derive(Debug)]
pub struct Error(String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl de::Error for Error {
    fn custom<M: fmt::Display>(msg: M) -> Self {
        Error(msg.to_string())
    }
}

/// A serde `Deserializer` for one node of the tree.
pub struct Deserializer<'de, 'u> {
    node: &'de YamlNode,
    unknown: &'u RefCell<Vec<UnknownField>>,
}

impl<'de, 'u> Deserializer<'de, 'u> {
    fn at(&self, node: &'de YamlNode) -> Deserializer<'de, 'u> {
        Deserializer {
            node,
            unknown: self.unknown,
        }
    }

    fn wrong(&self, exp: &dyn de::Expected) -> Error {
        de::Error::invalid_type(de::Unexpected::Other(self.node.describe()), exp)
    }

    fn place(&self) -> Place<'de> {
        let span = self.node.span();
        let plain = matches!(
            self.node,
            YamlNode::Scalar {
                style: ScalarStyle::Plain,
                ..
            }
        );
        Place {
            span,
            kind: Kind::Of(self.node),
            plain,
        }
    }
}

/// What a node was, worked out only when a [`Field`] asks (describing a plain scalar parses it).
#[derive(Clone, Copy)]
enum Kind<'de> {
    Of(&'de YamlNode),
    Is(&'static str),
}

/// What a [`Field`] learns about its node.
#[derive(Clone, Copy)]
struct Place<'de> {
    span: Span,
    kind: Kind<'de>,
    plain: bool,
}

/// Hands a [`Place`], the value and a scalar's text to a [`FieldVisitor`].
struct PlaceAccess<'de, D> {
    place: Place<'de>,
    value: Option<D>,
    text: Option<&'de str>,
    next: usize,
}

impl<'de, D: de::Deserializer<'de, Error = Error>> de::SeqAccess<'de> for PlaceAccess<'de, D> {
    type Error = Error;

    fn next_element_seed<S: DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<Option<S::Value>, Error> {
        let p = self.place;
        self.next += 1;
        match self.next {
            1 => seed
                .deserialize(p.span.file.0.into_deserializer())
                .map(Some),
            2 => seed.deserialize(p.span.start.into_deserializer()).map(Some),
            3 => seed.deserialize(p.span.end.into_deserializer()).map(Some),
            4 => seed.deserialize(p.plain.into_deserializer()).map(Some),
            5 => match self.value.take() {
                Some(d) => seed.deserialize(d).map(Some),
                None => Ok(None),
            },
            6 => {
                let kind = match p.kind {
                    Kind::Of(node) => node.describe(),
                    Kind::Is(kind) => kind,
                };
                seed.deserialize(kind_index(kind).into_deserializer())
                    .map(Some)
            }
            7 => match self.text {
                Some(t) => seed
                    .deserialize(de::value::BorrowedStrDeserializer::new(t))
                    .map(Some),
                None => Ok(None),
            },
            _ => Ok(None),
        }
    }
}

struct Items<'de, 'u> {
    items: std::slice::Iter<'de, YamlNode>,
    unknown: &'u RefCell<Vec<UnknownField>>,
}

impl<'de> de::SeqAccess<'de> for Items<'de, '_> {
    type Error = Error;

    fn next_element_seed<S: DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<Option<S::Value>, Error> {
        match self.items.next() {
            Some(node) => seed
                .deserialize(Deserializer {
                    node,
                    unknown: self.unknown,
                })
                .map(Some),
            None => Ok(None),
        }
    }
}

struct Pairs<'de, 'u> {
    entries: std::slice::Iter<'de, (Spanned<String>, YamlNode)>,
    /// A struct's declared fields: other keys are skipped (they were recorded as unknown).
    only: Option<&'static [&'static str]>,
    value: Option<&'de YamlNode>,
    unknown: &'u RefCell<Vec<UnknownField>>,
}

impl<'de> de::MapAccess<'de> for Pairs<'de, '_> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        for (key, value) in self.entries.by_ref() {
            if self.only.is_some_and(|f| !f.contains(&key.value.as_str())) {
                continue;
            }
            self.value = Some(value);
            return seed.deserialize(Key(key)).map(Some);
        }
        Ok(None)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        match self.value.take() {
            Some(node) => seed.deserialize(Deserializer {
                node,
                unknown: self.unknown,
            }),
            None => Err(de::Error::custom("a value was asked for before its key")),
        }
    }
}

impl<'de> de::Deserializer<'de> for Deserializer<'de, '_> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.node {
            YamlNode::Scalar { value, style } => {
                let text = value.value.as_str();
                if *style != ScalarStyle::Plain {
                    return visitor.visit_borrowed_str(text);
                }
                if let Some(i) = super::parse_int(text) {
                    return visitor.visit_i64(i);
                }
                if let Some(f) = super::parse_float(text) {
                    return visitor.visit_f64(f);
                }
                match text {
                    "true" | "True" | "TRUE" => visitor.visit_bool(true),
                    "false" | "False" | "FALSE" => visitor.visit_bool(false),
                    _ => visitor.visit_borrowed_str(text),
                }
            }
            YamlNode::Sequence { .. } => self.deserialize_seq(visitor),
            YamlNode::Mapping { .. } => self.deserialize_map(visitor),
            YamlNode::Null(_) => visitor.visit_unit(),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        // A written null is a value (see the module's documentation), not an absent one.
        visitor.visit_some(self)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.node {
            YamlNode::Scalar { value, .. } => visitor.visit_borrowed_str(&value.value),
            _ => Err(self.wrong(&visitor)),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let items: &[YamlNode] = match self.node {
            YamlNode::Sequence { items, .. } => items,
            YamlNode::Null(_) => &[],
            _ => return Err(self.wrong(&visitor)),
        };
        visitor.visit_seq(Items {
            items: items.iter(),
            unknown: self.unknown,
        })
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let entries: &[(Spanned<String>, YamlNode)] = match self.node {
            YamlNode::Mapping { entries, .. } => entries,
            YamlNode::Null(_) => &[],
            _ => return Err(self.wrong(&visitor)),
        };
        visitor.visit_map(Pairs {
            entries: entries.iter(),
            only: None,
            value: None,
            unknown: self.unknown,
        })
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        if name == FIELD {
            return visitor.visit_seq(PlaceAccess {
                place: self.place(),
                value: Some(self.at(self.node)),
                text: match self.node {
                    YamlNode::Scalar { value, .. } => Some(value.value.as_str()),
                    _ => None,
                },
                next: 0,
            });
        }
        let entries: &[(Spanned<String>, YamlNode)] = match self.node {
            YamlNode::Mapping { entries, .. } => entries,
            YamlNode::Null(_) => &[],
            _ => return Err(self.wrong(&visitor)),
        };
        let within = self.node.span();
        self.unknown.borrow_mut().extend(
            entries
                .iter()
                .filter(|(k, _)| !fields.contains(&k.value.as_str()))
                .map(|(k, v)| UnknownField {
                    key: k.clone(),
                    fields,
                    within,
                    value: (v.span(), v.describe()),
                }),
        );
        visitor.visit_map(Pairs {
            entries: entries.iter(),
            only: Some(fields),
            value: None,
            unknown: self.unknown,
        })
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char bytes byte_buf unit
        unit_struct newtype_struct tuple tuple_struct enum
    }
}

/// A mapping key: always a scalar (the tree refuses others), with its own place.
struct Key<'a>(&'a Spanned<String>);

impl<'de> de::Deserializer<'de> for Key<'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_borrowed_str(&self.0.value)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_some(self)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        if name != FIELD {
            return Err(de::Error::invalid_type(
                de::Unexpected::Str(&self.0.value),
                &visitor,
            ));
        }
        let key = self.0;
        visitor.visit_seq(PlaceAccess {
            place: Place {
                span: key.span,
                kind: Kind::Is("a string"),
                plain: true,
            },
            value: Some(Key(key)),
            text: Some(key.value.as_str()),
            next: 0,
        })
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceMap;

    #[derive(Deserialize, Debug)]
    struct Raw {
        name: Field<String>,
        port: Option<Field<String>>,
        list: Option<Field<Vec<Field<String>>>>,
        set: Option<Field<Entries<String>>>,
        inner: Option<Field<Inner>>,
    }

    #[derive(Deserialize, Debug)]
    #[allow(dead_code)]
    struct Inner {
        a: Option<Field<String>>,
    }

    fn read_raw(text: &str) -> (SourceMap, Field<Raw>, Vec<UnknownField>) {
        let mut map = SourceMap::new();
        let file = map.add("t.yaml", text);
        let doc = super::super::parse(file, text).unwrap();
        let (raw, unknown) = read::<Raw>(&doc.root);
        (map, raw, unknown)
    }

    #[test]
    fn fields_keep_place_kind_and_plainness() {
        let (map, raw, unknown) = read_raw("name: web\nport: '80'\nlist: [a, [b]]\n");
        assert!(unknown.is_empty());
        let raw = raw.get().unwrap().value;
        let name = raw.name.get().unwrap();
        assert_eq!((name.value.as_str(), map.slice(name.span)), ("web", "web"));
        let Some(Field::Present { plain, found, .. }) = &raw.port else {
            panic!("port is present");
        };
        assert_eq!((*plain, *found), (false, "a quoted string"));
        let list = raw.list.as_ref().unwrap().get().unwrap().value;
        assert_eq!(list[0].get().unwrap().value, "a");
        // A list where a scalar belongs: the item keeps its place and kind, without a value.
        let Field::Present {
            found, value, span, ..
        } = &list[1]
        else {
            panic!("present");
        };
        assert_eq!(
            (*found, value.is_none(), map.slice(*span)),
            ("a list", true, "[b]")
        );
    }

    #[test]
    fn every_kind_a_node_can_be_is_in_the_table() {
        let text = "- 1\n- true\n- x\n- 'q'\n- |\n  b\n- [l]\n- {m: 1}\n- ~\n";
        let mut map = SourceMap::new();
        let file = map.add("t.yaml", text);
        let root = super::super::parse(file, text).unwrap().root;
        let YamlNode::Sequence { items, .. } = root else {
            panic!("a list");
        };
        let kinds: Vec<_> = items.iter().map(YamlNode::describe).collect();
        assert_eq!(kinds, KINDS);
        for k in KINDS {
            assert_eq!(KINDS[kind_index(k) as usize], k);
        }
    }

    #[test]
    fn missing_null_and_wrong_shapes() {
        let (_, raw, _) = read_raw("port:\nlist: ~\nset: 3\n");
        let raw = raw.get().unwrap().value;
        assert_eq!(raw.name, Field::Missing);
        // A null where a scalar belongs is a wrong type, a null list an empty one.
        let port = raw.port.as_ref().unwrap();
        assert!(matches!(
            port,
            Field::Present {
                found: "nothing (null)",
                value: None,
                ..
            }
        ));
        assert!(raw.list.as_ref().unwrap().get().unwrap().value.is_empty());
        let set = raw.set.as_ref().unwrap();
        assert!(matches!(
            set,
            Field::Present {
                found: "a number",
                value: None,
                ..
            }
        ));
        assert!(raw.inner.is_none());
    }

    #[test]
    fn typed_accessors_report_wrong_types() {
        #[derive(Deserialize)]
        struct Typed {
            listen: Field<Vec<Field<String>>>,
            port: Field<String>,
            name: Field<String>,
            set: Field<Entries<String>>,
        }
        let text = "listen: 80\nport: \"80\"\nname: [a]\nset: x\n";
        let mut map = SourceMap::new();
        let file = map.add("t.yaml", text);
        let doc = super::super::parse(file, text).unwrap();
        let (raw, _) = read::<Typed>(&doc.root);
        let raw = raw.get().unwrap().value;
        let mut diags = Vec::new();
        assert!(raw.listen.list("a list of ports", &mut diags).is_none());
        assert!(raw.port.plain("a port number", &mut diags).is_none());
        assert!(raw.name.scalar("a node name", &mut diags).is_none());
        assert!(raw.set.mapping("a mapping", &mut diags).is_none());
        let got: Vec<_> = diags
            .iter()
            .map(|d| {
                let l = map.location(d.primary.as_ref().unwrap().span);
                (d.code.as_str(), d.message.as_str(), (l.line, l.column))
            })
            .collect();
        assert_eq!(
            got,
            [
                ("TW053", "expected a list of ports, found a number", (1, 9)),
                (
                    "TW053",
                    "expected a port number, found a quoted string",
                    (2, 7)
                ),
                ("TW053", "expected a node name, found a list", (3, 7)),
                ("TW053", "expected a mapping, found a string", (4, 6)),
            ]
        );
    }

    #[test]
    fn unknown_keys_are_recorded_in_order_and_skipped() {
        let (map, raw, unknown) =
            read_raw("nmae: x\nname: y\ninner: {a: 1, b: 2}\nset: {k.a: 1, k.b: [2]}\n");
        let got: Vec<_> = unknown
            .iter()
            .map(|u| (u.key.value.as_str(), map.slice(u.within)))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "nmae",
                    "nmae: x\nname: y\ninner: {a: 1, b: 2}\nset: {k.a: 1, k.b: [2]}"
                ),
                ("b", "{a: 1, b: 2}")
            ]
        );
        assert_eq!(unknown[0].fields, ["name", "port", "list", "set", "inner"]);
        let raw = raw.get().unwrap().value;
        let set = &raw.set.as_ref().unwrap().get().unwrap().value.0;
        assert_eq!(set.len(), 2);
        assert_eq!(map.slice(set[1].0.span), "k.b");
        assert!(set[1].1.get().is_none());
    }
}
