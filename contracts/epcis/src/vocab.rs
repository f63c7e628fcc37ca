//! CBV 2.0 and GS1 Web Vocabulary terms that the EPCIS 2.0 JSON-LD context
//! (`https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld`) expands when written as
//! bare words in the field they belong to. A bare word outside its list stays as written,
//! exactly as JSON-LD expansion leaves it. Lists are sorted for binary search.

/// A field's bare-word vocabulary: the IRI prefix and the terms it accepts.
pub(crate) struct Vocabulary {
    pub base: &'static str,
    pub terms: &'static [&'static str],
}

impl Vocabulary {
    /// The IRI of `word` if it is a term of this vocabulary.
    pub fn expand(&self, word: &str) -> Option<String> {
        self.terms
            .binary_search(&word)
            .ok()
            .map(|_| format!("{}{word}", self.base))
    }
}

pub(crate) const BIZ_STEP: Vocabulary = Vocabulary {
    base: "https://ref.gs1.org/cbv/BizStep-",
    terms: &[
        "accepting",
        "arriving",
        "assembling",
        "collecting",
        "commissioning",
        "consigning",
        "creating_class_instance",
        "cycle_counting",
        "decommissioning",
        "departing",
        "destroying",
        "disassembling",
        "dispensing",
        "encoding",
        "entering_exiting",
        "holding",
        "inspecting",
        "installing",
        "killing",
        "loading",
        "other",
        "packing",
        "picking",
        "receiving",
        "removing",
        "repackaging",
        "repairing",
        "replacing",
        "reserving",
        "retail_selling",
        "sampling",
        "sensor_reporting",
        "shipping",
        "staging_outbound",
        "stock_taking",
        "stocking",
        "storing",
        "transporting",
        "unloading",
        "unpacking",
        "void_shipping",
    ],
};

pub(crate) const DISPOSITION: Vocabulary = Vocabulary {
    base: "https://ref.gs1.org/cbv/Disp-",
    terms: &[
        "active",
        "available",
        "completeness_inferred",
        "completeness_verified",
        "conformant",
        "container_closed",
        "container_open",
        "damaged",
        "destroyed",
        "dispensed",
        "disposed",
        "encoded",
        "expired",
        "in_progress",
        "in_transit",
        "inactive",
        "mismatch_class",
        "mismatch_instance",
        "mismatch_quantity",
        "needs_replacement",
        "no_pedigree_match",
        "non_conformant",
        "non_sellable_other",
        "partially_dispensed",
        "recalled",
        "reserved",
        "retail_sold",
        "returned",
        "sellable_accessible",
        "sellable_not_accessible",
        "stolen",
        "unavailable",
        "unknown",
    ],
};

pub(crate) const BIZ_TRANSACTION_TYPE: Vocabulary = Vocabulary {
    base: "https://ref.gs1.org/cbv/BTT-",
    terms: &[
        "bol",
        "cert",
        "desadv",
        "inv",
        "pedigree",
        "po",
        "poc",
        "prodorder",
        "recadv",
        "rma",
        "testprd",
        "testres",
        "upevt",
    ],
};

pub(crate) const SOURCE_DESTINATION_TYPE: Vocabulary = Vocabulary {
    base: "https://ref.gs1.org/cbv/SDT-",
    terms: &["location", "owning_party", "possessing_party"],
};

pub(crate) const ERROR_REASON: Vocabulary = Vocabulary {
    base: "https://ref.gs1.org/cbv/ER-",
    terms: &["did_not_occur", "incorrect_data"],
};

pub(crate) const SENSOR_TYPE: Vocabulary = Vocabulary {
    base: "https://gs1.org/voc/",
    terms: &[
        "AbsoluteHumidity",
        "AbsorbedDose",
        "AbsorbedDoseRate",
        "Acceleration",
        "Altitude",
        "AmountOfSubstance",
        "AmountOfSubstancePerUnitVolume",
        "Angle",
        "AngularAcceleration",
        "AngularMomentum",
        "AngularVelocity",
        "Area",
        "Capacitance",
        "Conductance",
        "Conductivity",
        "Count",
        "Density",
        "Dimensionless",
        "DoseEquivalent",
        "DoseEquivalentRate",
        "DynamicViscosity",
        "ElectricCharge",
        "ElectricCurrent",
        "ElectricCurrentDensity",
        "ElectricFieldStrength",
        "Energy",
        "Exposure",
        "Force",
        "Frequency",
        "Illuminance",
        "Inductance",
        "Irradiance",
        "KinematicViscosity",
        "Length",
        "LinearMomentum",
        "Luminance",
        "LuminousFlux",
        "LuminousIntensity",
        "MagneticFlux",
        "MagneticFluxDensity",
        "MagneticVectorPotential",
        "Mass",
        "MassConcentration",
        "MassFlowRate",
        "MassPerAreaTime",
        "MemoryCapacity",
        "MolalityOfSolute",
        "MolarEnergy",
        "MolarMass",
        "MolarVolume",
        "Power",
        "Pressure",
        "RadiantFlux",
        "RadiantIntensity",
        "Radioactivity",
        "RelativeHumidity",
        "Resistance",
        "Resistivity",
        "SolidAngle",
        "SpecificVolume",
        "Speed",
        "SurfaceDensity",
        "SurfaceTension",
        "Temperature",
        "Time",
        "Torque",
        "Voltage",
        "Volume",
        "VolumeFlowRate",
        "VolumeFraction",
        "VolumetricFlux",
        "Wavenumber",
    ],
};

pub(crate) const SENSOR_EXCEPTION: Vocabulary = Vocabulary {
    base: "https://gs1.org/voc/",
    terms: &["ALARM_CONDITION", "ERROR_CONDITION"],
};

pub(crate) const SENSOR_COMPONENT: Vocabulary = Vocabulary {
    base: "https://ref.gs1.org/cbv/Comp-",
    terms: &[
        "altitude",
        "axial_distance",
        "azimuth",
        "easting",
        "elevation_angle",
        "height",
        "latitude",
        "longitude",
        "northing",
        "polar_angle",
        "spherical_radius",
        "x",
        "y",
        "z",
    ],
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_term_lists_are_sorted_and_unique() {
        for vocabulary in [
            BIZ_STEP,
            DISPOSITION,
            BIZ_TRANSACTION_TYPE,
            SOURCE_DESTINATION_TYPE,
            ERROR_REASON,
            SENSOR_TYPE,
            SENSOR_EXCEPTION,
            SENSOR_COMPONENT,
        ] {
            assert!(
                vocabulary.terms.windows(2).all(|w| w[0] < w[1]),
                "{} terms unsorted",
                vocabulary.base
            );
        }
    }

    #[test]
    fn test_only_listed_words_expand() {
        assert_eq!(
            BIZ_STEP.expand("shipping").as_deref(),
            Some("https://ref.gs1.org/cbv/BizStep-shipping")
        );
        assert_eq!(BIZ_STEP.expand("my_step"), None);
        assert_eq!(
            SENSOR_TYPE.expand("Temperature").as_deref(),
            Some("https://gs1.org/voc/Temperature")
        );
    }
}
