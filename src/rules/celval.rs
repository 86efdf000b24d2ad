//! Facts straight into CEL's runtime values.
//!
//! This module owns [`to_val`]: a serde serializer that builds the `Box<dyn Val>` a condition
//! evaluates against directly from a fact struct. `cel::to_value` followed by the crate's own
//! `Value` → `Box<dyn Val>` conversion builds every map twice and clones it once more on the
//! way (it was about a fifth of judging a `sysctl -a` dump). The values are the ones that path
//! gives, kind for kind: signed integers are `int`, unsigned `uint`, floats `double` (non-finite
//! ones too), `None` and unit `null`, unit variants their name, sequences and tuples lists,
//! maps and structs maps with string (or bool, int, uint) keys. It is the only conversion a run
//! uses; its tests hold it to the crate's path on real node and hop facts and on the kinds of
//! data facts do not use yet.

use cel::common::types::{
    CelBool, CelBytes, CelDouble, CelInt, CelList, CelMap, CelMapKey, CelNull, CelString, CelUInt,
};
use cel::common::value::Val;
use serde::ser::{self, Serialize};
use std::collections::HashMap;
use std::fmt;

type Boxed = Box<dyn Val>;

/// Converts a fact struct to a CEL value.
pub fn to_val<T: Serialize + ?Sized>(value: &T) -> Result<Boxed, Error> {
    value.serialize(ValSerializer)
}

/// A fact that has no CEL form (a map key that is not a string, integer or bool).
#[derive(Debug)]
pub struct Error(String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl ser::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error(msg.to_string())
    }
}

struct ValSerializer;

fn boxed(v: impl Val + 'static) -> Result<Boxed, Error> {
    Ok(Box::new(v))
}

impl ser::Serializer for ValSerializer {
    type Ok = Boxed;
    type Error = Error;
    type SerializeSeq = SeqBuilder;
    type SerializeTuple = SeqBuilder;
    type SerializeTupleStruct = SeqBuilder;
    type SerializeTupleVariant = Variant<SeqBuilder>;
    type SerializeMap = MapBuilder;
    type SerializeStruct = MapBuilder;
    type SerializeStructVariant = Variant<MapBuilder>;

    fn serialize_bool(self, v: bool) -> Result<Boxed, Error> {
        boxed(CelBool::from(v))
    }
    fn serialize_i8(self, v: i8) -> Result<Boxed, Error> {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i16(self, v: i16) -> Result<Boxed, Error> {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i32(self, v: i32) -> Result<Boxed, Error> {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i64(self, v: i64) -> Result<Boxed, Error> {
        boxed(CelInt::from(v))
    }
    fn serialize_u8(self, v: u8) -> Result<Boxed, Error> {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u16(self, v: u16) -> Result<Boxed, Error> {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u32(self, v: u32) -> Result<Boxed, Error> {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u64(self, v: u64) -> Result<Boxed, Error> {
        boxed(CelUInt::from(v))
    }
    fn serialize_f32(self, v: f32) -> Result<Boxed, Error> {
        self.serialize_f64(f64::from(v))
    }
    fn serialize_f64(self, v: f64) -> Result<Boxed, Error> {
        boxed(CelDouble::from(v))
    }
    fn serialize_char(self, v: char) -> Result<Boxed, Error> {
        boxed(CelString::from(v.to_string()))
    }
    fn serialize_str(self, v: &str) -> Result<Boxed, Error> {
        boxed(CelString::from(v.to_owned()))
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<Boxed, Error> {
        boxed(CelBytes::from(v.to_vec()))
    }
    fn serialize_none(self) -> Result<Boxed, Error> {
        boxed(CelNull)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Boxed, Error> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<Boxed, Error> {
        boxed(CelNull)
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<Boxed, Error> {
        boxed(CelNull)
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<Boxed, Error> {
        boxed(CelString::from(variant))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<Boxed, Error> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<Boxed, Error> {
        variant_map(variant, to_val(value)?)
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<SeqBuilder, Error> {
        Ok(SeqBuilder(Vec::with_capacity(len.unwrap_or(0))))
    }
    fn serialize_tuple(self, len: usize) -> Result<SeqBuilder, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Result<SeqBuilder, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Variant<SeqBuilder>, Error> {
        Ok(Variant(variant, self.serialize_seq(Some(len))?))
    }
    fn serialize_map(self, len: Option<usize>) -> Result<MapBuilder, Error> {
        Ok(MapBuilder {
            map: HashMap::with_capacity(len.unwrap_or(0)),
            key: None,
        })
    }
    fn serialize_struct(self, _name: &'static str, len: usize) -> Result<MapBuilder, Error> {
        self.serialize_map(Some(len))
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Variant<MapBuilder>, Error> {
        Ok(Variant(variant, self.serialize_map(Some(len))?))
    }
}

struct SeqBuilder(Vec<Boxed>);

impl SeqBuilder {
    fn push<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.0.push(to_val(value)?);
        Ok(())
    }
    fn finish(self) -> Result<Boxed, Error> {
        boxed(CelList::from(self.0))
    }
}

impl ser::SerializeSeq for SeqBuilder {
    type Ok = Boxed;
    type Error = Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.push(value)
    }
    fn end(self) -> Result<Boxed, Error> {
        self.finish()
    }
}

impl ser::SerializeTuple for SeqBuilder {
    type Ok = Boxed;
    type Error = Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.push(value)
    }
    fn end(self) -> Result<Boxed, Error> {
        self.finish()
    }
}

impl ser::SerializeTupleStruct for SeqBuilder {
    type Ok = Boxed;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.push(value)
    }
    fn end(self) -> Result<Boxed, Error> {
        self.finish()
    }
}

struct MapBuilder {
    map: HashMap<CelMapKey<'static>, Boxed>,
    key: Option<CelMapKey<'static>>,
}

impl MapBuilder {
    fn finish(self) -> Result<Boxed, Error> {
        boxed(CelMap::from(self.map))
    }
}

impl ser::SerializeMap for MapBuilder {
    type Ok = Boxed;
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        self.key = Some(key.serialize(KeySerializer)?);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        let key = self
            .key
            .take()
            .ok_or_else(|| Error("a map value without a key".into()))?;
        self.map.insert(key, to_val(value)?);
        Ok(())
    }
    fn end(self) -> Result<Boxed, Error> {
        self.finish()
    }
}

impl ser::SerializeStruct for MapBuilder {
    type Ok = Boxed;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        // A field's name is static: borrowed, not copied (a copy each was a tenth of converting
        // a hop's facts).
        self.map.insert(CelMapKey::from(key), to_val(value)?);
        Ok(())
    }
    fn end(self) -> Result<Boxed, Error> {
        self.finish()
    }
}

/// An enum variant with data, built up before [`variant_map`] wraps it.
struct Variant<B>(&'static str, B);

/// An enum variant with data: a one-entry map from the variant's name to its data.
fn variant_map(name: &'static str, inner: Boxed) -> Result<Boxed, Error> {
    let mut map = HashMap::with_capacity(1);
    map.insert(CelMapKey::from(name), inner);
    boxed(CelMap::from(map))
}

impl ser::SerializeTupleVariant for Variant<SeqBuilder> {
    type Ok = Boxed;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.1.push(value)
    }
    fn end(self) -> Result<Boxed, Error> {
        variant_map(self.0, self.1.finish()?)
    }
}

impl ser::SerializeStructVariant for Variant<MapBuilder> {
    type Ok = Boxed;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        ser::SerializeStruct::serialize_field(&mut self.1, key, value)
    }
    fn end(self) -> Result<Boxed, Error> {
        variant_map(self.0, self.1.finish()?)
    }
}

/// Map keys: CEL allows strings, integers and bools.
struct KeySerializer;

fn unsupported<T>(what: &str) -> Result<T, Error> {
    Err(Error(format!("{what} cannot be a CEL map key")))
}

impl ser::Serializer for KeySerializer {
    type Ok = CelMapKey<'static>;
    type Error = Error;
    type SerializeSeq = ser::Impossible<CelMapKey<'static>, Error>;
    type SerializeTuple = ser::Impossible<CelMapKey<'static>, Error>;
    type SerializeTupleStruct = ser::Impossible<CelMapKey<'static>, Error>;
    type SerializeTupleVariant = ser::Impossible<CelMapKey<'static>, Error>;
    type SerializeMap = ser::Impossible<CelMapKey<'static>, Error>;
    type SerializeStruct = ser::Impossible<CelMapKey<'static>, Error>;
    type SerializeStructVariant = ser::Impossible<CelMapKey<'static>, Error>;

    fn serialize_bool(self, v: bool) -> Result<Self::Ok, Error> {
        Ok(CelMapKey::from(v))
    }
    fn serialize_i8(self, v: i8) -> Result<Self::Ok, Error> {
        Ok(CelMapKey::from(i64::from(v)))
    }
    fn serialize_i16(self, v: i16) -> Result<Self::Ok, Error> {
        Ok(CelMapKey::from(i64::from(v)))
    }
    fn serialize_i32(self, v: i32) -> Result<Self::Ok, Error> {
        Ok(CelMapKey::from(i64::from(v)))
    }
    fn serialize_i64(self, v: i64) -> Result<Self::Ok, Error> {
        Ok(CelMapKey::from(v))
    }
    fn serialize_u8(self, v: u8) -> Result<Self::Ok, Error> {
        Ok(CelMapKey::from(u64::from(v)))
    }
    fn serialize_u16(self, v: u16) -> Result<Self::Ok, Error> {
        Ok(CelMapKey::from(u64::from(v)))
    }
    fn serialize_u32(self, v: u32) -> Result<Self::Ok, Error> {
        Ok(CelMapKey::from(u64::from(v)))
    }
    fn serialize_u64(self, v: u64) -> Result<Self::Ok, Error> {
        Ok(CelMapKey::from(v))
    }
    fn serialize_f32(self, _v: f32) -> Result<Self::Ok, Error> {
        unsupported("a float")
    }
    fn serialize_f64(self, _v: f64) -> Result<Self::Ok, Error> {
        unsupported("a float")
    }
    fn serialize_char(self, v: char) -> Result<Self::Ok, Error> {
        Ok(CelMapKey::from(v.to_string()))
    }
    fn serialize_str(self, v: &str) -> Result<Self::Ok, Error> {
        Ok(CelMapKey::from(v.to_owned()))
    }
    fn serialize_bytes(self, _v: &[u8]) -> Result<Self::Ok, Error> {
        unsupported("bytes")
    }
    fn serialize_none(self) -> Result<Self::Ok, Error> {
        unsupported("null")
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Self::Ok, Error> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<Self::Ok, Error> {
        unsupported("null")
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<Self::Ok, Error> {
        unsupported("null")
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<Self::Ok, Error> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<Self::Ok, Error> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<Self::Ok, Error> {
        unsupported("an enum variant with data")
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, Error> {
        unsupported("a list")
    }
    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, Error> {
        unsupported("a tuple")
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct, Error> {
        unsupported("a tuple")
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        unsupported("an enum variant with data")
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, Error> {
        unsupported("a map")
    }
    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStruct, Error> {
        unsupported("a struct")
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        unsupported("an enum variant with data")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cel::Value;
    use serde::Serialize;
    use std::collections::BTreeMap;

    /// The value the crate's own path gives (`cel::to_value`, then `Box<dyn Val>`), read back
    /// as a `Value` so the two can be compared.
    fn via_crate<T: Serialize>(v: &T) -> Value {
        let b: Box<dyn Val> = cel::to_value(v).unwrap().try_into().unwrap();
        Value::try_from(b.as_ref()).unwrap()
    }

    fn direct<T: Serialize>(v: &T) -> Value {
        Value::try_from(to_val(v).unwrap().as_ref()).unwrap()
    }

    #[derive(Serialize)]
    enum Kind {
        Plain,
        Wrapped(i64),
        Pair(i64, String),
        Named { a: bool },
    }

    #[derive(Serialize)]
    struct Newtype(u16);

    #[derive(Serialize)]
    struct Everything {
        b: bool,
        i: i64,
        small: i8,
        u: u64,
        byte: u8,
        f: f64,
        whole: f64,
        inf: f64,
        c: char,
        s: String,
        none: Option<i64>,
        some: Option<String>,
        unit: (),
        list: Vec<i64>,
        tuple: (i64, bool),
        strings: BTreeMap<String, String>,
        ints: BTreeMap<i64, bool>,
        kinds: Vec<Kind>,
        newtype: Newtype,
    }

    #[test]
    fn gives_the_values_the_crate_path_gives() {
        let e = Everything {
            b: true,
            i: -5,
            small: 3,
            u: u64::MAX,
            byte: 7,
            f: 470.53,
            whole: 1500.0,
            inf: f64::INFINITY,
            c: 'x',
            s: "tcp_tw_reuse".into(),
            none: None,
            some: Some("a".into()),
            unit: (),
            list: vec![1, 2, 3],
            tuple: (4, false),
            strings: [("k".to_string(), "v".to_string())].into(),
            ints: [(1, true), (-2, false)].into(),
            kinds: vec![
                Kind::Plain,
                Kind::Wrapped(9),
                Kind::Pair(1, "p".into()),
                Kind::Named { a: true },
            ],
            newtype: Newtype(80),
        };
        assert_eq!(direct(&e), via_crate(&e));
    }

    /// Node and hop facts of a topology with rates, reserved and listening ports, NAT and both
    /// closing sides: every field kind the fact model has, with real values.
    #[test]
    fn facts_convert_as_the_crate_path_converts_them() {
        let (client, server, hops) = samples::facts();
        assert_eq!(direct(&client), via_crate(&client));
        assert_eq!(direct(&server), via_crate(&server));
        for hop in &hops {
            assert_eq!(direct(hop), via_crate(hop));
        }
    }
}

/// Real facts for the tests of the conversions (here and in `rules::eval`).
#[cfg(test)]
pub(super) mod samples {
    use crate::config::{self, InlineValue, KernelOrigin};
    use crate::facts::{self, HopFacts, LinkInfo, NodeFacts, NodeInfo};
    use crate::kernel::KernelVersion;
    use crate::source::{SourceMap, Span};

    /// A client and a server node with ports reserved and listening, and the hop facts of a
    /// link between them through NAT, with and without a rate, from both sides.
    pub fn facts() -> (NodeFacts, NodeFacts, Vec<HopFacts>) {
        let mut sources = SourceMap::new();
        let file = sources.add("t", "");
        let node = |values: &[(&str, &str)], info: NodeInfo| {
            let inline: Vec<InlineValue> = values
                .iter()
                .map(|(k, v)| InlineValue {
                    key: k.to_string(),
                    key_span: Span::new(file, 0, 0),
                    value: v.to_string(),
                    value_span: Span::new(file, 0, 0),
                })
                .collect();
            let kernel = KernelVersion::parse("6.18").unwrap();
            let mut diags = Vec::new();
            let cfg = config::resolve("n", kernel, KernelOrigin::Node, None, &inline, &mut diags);
            facts::node_facts(&cfg, &info)
        };
        let client = node(
            &[
                ("net.ipv4.ip_local_port_range", "32768 60999"),
                ("net.ipv4.ip_local_reserved_ports", "40000-40010"),
                ("net.ipv4.tcp_tw_reuse", "1"),
            ],
            NodeInfo {
                role: "web".into(),
                listen: vec![8080, 40005],
                addresses: vec!["10.0.0.1".into(), "10.0.0.2".into()],
                ..NodeInfo::default()
            },
        );
        let server = node(
            &[("net.ipv4.tcp_timestamps", "0")],
            NodeInfo {
                role: "db".into(),
                listen: vec![5432],
                addresses: vec!["10.0.1.1".into()],
                ..NodeInfo::default()
            },
        );
        let mut hops = Vec::new();
        for (client_closes, rate) in [(true, Some(470.5)), (false, None)] {
            let link = LinkInfo {
                name: "web->db".into(),
                from: 0,
                to: 1,
                port: 5432,
                via_nat: true,
                client_closes,
                rate,
                open: Some(3),
                source: None,
                namespace_rate: None,
                namespace_open: None,
                vias: vec![],
                keepalive: None,
            };
            for client_side in [true, false] {
                let (me, peer) = if client_side {
                    (&client, &server)
                } else {
                    (&server, &client)
                };
                hops.push(facts::hop_facts(&link, client_side, me, peer, "web"));
            }
        }
        (client, server, hops)
    }
}
