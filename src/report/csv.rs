//! `metrics.csv`: one row per figure, `strategy,commodity,consumer,metric,value`
//! (docs/model.md §7). A null figure (`stockout_prob` without a stockpile) is an
//! empty value.

use super::{Exporter, Summary};
use crate::error::Error;

pub struct CsvExporter;

impl Exporter for CsvExporter {
    fn file_name(&self) -> &'static str {
        "metrics.csv"
    }

    fn serialize(&self, summary: &Summary) -> Result<Vec<u8>, Error> {
        let err = |e: csv::Error| Error::Other(format!("cannot write metrics.csv: {e}"));
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(["strategy", "commodity", "consumer", "metric", "value"])
            .map_err(err)?;
        for row in &summary.results {
            for (name, value) in row.metrics.named() {
                let value = value.map(|v| v.to_string()).unwrap_or_default();
                w.write_record([
                    row.strategy.as_str(),
                    &row.commodity,
                    &row.consumer,
                    name,
                    &value,
                ])
                .map_err(err)?;
            }
        }
        w.into_inner()
            .map_err(|e| Error::Other(format!("cannot write metrics.csv: {e}")))
    }
}
