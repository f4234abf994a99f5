//! `summary.json` (docs/model.md §7).

use super::{Exporter, Summary};
use crate::error::Error;

pub struct JsonExporter;

impl Exporter for JsonExporter {
    fn file_name(&self) -> &'static str {
        "summary.json"
    }

    fn serialize(&self, summary: &Summary) -> Result<Vec<u8>, Error> {
        let mut v = serde_json::to_vec_pretty(summary)
            .map_err(|e| Error::Other(format!("cannot serialise summary.json: {e}")))?;
        v.push(b'\n');
        Ok(v)
    }
}
