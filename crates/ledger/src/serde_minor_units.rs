//! Serde for [`MinorUnits`] (which has no serde impls in `domain`): a plain integer, refused
//! when negative rather than clamped.

use domain::money::MinorUnits;
use serde::{Deserialize, Deserializer, Serializer};

pub(crate) fn serialize<S: Serializer>(
    value: &MinorUnits,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_i64(value.get())
}

pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<MinorUnits, D::Error> {
    from_i64(i64::deserialize(deserializer)?)
}

fn from_i64<E: serde::de::Error>(value: i64) -> Result<MinorUnits, E> {
    if value < 0 {
        return Err(E::custom("amount must not be negative"));
    }
    Ok(MinorUnits::from_stored(value))
}

pub(crate) mod option {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(
        value: &Option<MinorUnits>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(value) => serializer.serialize_some(&value.get()),
            None => serializer.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<MinorUnits>, D::Error> {
        Option::<i64>::deserialize(deserializer)?
            .map(from_i64::<D::Error>)
            .transpose()
    }
}
