//! Converts docs/api/openapi.yaml to the JSON the component serves at /api/openapi.json.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let spec = manifest.join("../../docs/api/openapi.yaml");
    println!("cargo:rerun-if-changed={}", spec.display());
    let yaml: serde_yaml::Value = serde_yaml::from_str(&std::fs::read_to_string(&spec)?)?;
    let json = serde_json::to_string(&yaml)?;
    let out = PathBuf::from(std::env::var("OUT_DIR")?).join("openapi.json");
    std::fs::write(out, json)?;
    Ok(())
}
