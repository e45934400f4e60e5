//! Where each model runs: the execution provider (ONNX Runtime's own CPU kernels, or
//! OpenVINO's) and the precision it computes in, chosen per model role.
//!
//! One ONNX Runtime library is loaded per process, and the backends decide which: the
//! `onnxruntime` wheel's for the CPU provider, or the `onnxruntime-openvino` wheel's, which
//! carries ONNX Runtime's CPU provider too. So in a process where any role runs on OpenVINO,
//! a role set to `cpu` runs that library's CPU provider, and provenance says which library
//! it was ([`Library`]).
//!
//! bf16 halves OpenVINO's work on CPUs that compute it natively (AVX512-BF16 or AMX); on
//! others it would be emulated, slower than f32, so [`Executions::effective`] turns it back
//! to f32 and says so once.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The execution provider a model runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// ONNX Runtime's CPU provider.
    Cpu,
    /// OpenVINO's CPU plugin, through ONNX Runtime's OpenVINO provider.
    OpenVino,
}

/// The precision a model computes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    F32,
    /// bfloat16 inside OpenVINO (its `INFERENCE_PRECISION_HINT`); inputs and outputs stay f32.
    Bf16,
}

/// A backend and a precision: how one model runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Execution {
    pub backend: Backend,
    pub precision: Precision,
}

/// The model roles an engine and a verifier run, each with its own [`Execution`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Det,
    Cls,
    Rec,
    /// Every recogniser asked for a second opinion.
    Opinions,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Det, Role::Cls, Role::Rec, Role::Opinions];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Det => "det",
            Role::Cls => "cls",
            Role::Rec => "rec",
            Role::Opinions => "opinions",
        }
    }
}

/// How each role's model runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Executions {
    pub det: Execution,
    pub cls: Execution,
    pub rec: Execution,
    pub opinions: Execution,
}

/// A backend or precision setting that cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ExecutionError {
    #[error("unknown {what} `{value}`: use {choices}")]
    Unknown { what: &'static str, value: String, choices: &'static str },
    #[error("unknown model role `{0}`: use det, cls, rec or opinions")]
    Role(String),
    #[error("`{0}` runs bf16, which only the openvino backend computes")]
    Bf16OnCpu(&'static str),
}

impl FromStr for Backend {
    type Err = ExecutionError;

    fn from_str(value: &str) -> Result<Self, ExecutionError> {
        match value {
            "cpu" => Ok(Backend::Cpu),
            "openvino" => Ok(Backend::OpenVino),
            _ => Err(ExecutionError::Unknown { what: "backend", value: value.into(), choices: "cpu or openvino" }),
        }
    }
}

impl FromStr for Precision {
    type Err = ExecutionError;

    fn from_str(value: &str) -> Result<Self, ExecutionError> {
        match value {
            "f32" => Ok(Precision::F32),
            "bf16" => Ok(Precision::Bf16),
            _ => Err(ExecutionError::Unknown { what: "precision", value: value.into(), choices: "f32 or bf16" }),
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::Cpu => "cpu",
            Backend::OpenVino => "openvino",
        })
    }
}

impl fmt::Display for Precision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Precision::F32 => "f32",
            Precision::Bf16 => "bf16",
        })
    }
}

/// `det openvino/bf16, cls cpu/f32, …`: what a record of a run names.
impl fmt::Display for Executions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, role) in Role::ALL.into_iter().enumerate() {
            let Execution { backend, precision } = self.get(role);
            write!(f, "{}{} {backend}/{precision}", if i == 0 { "" } else { ", " }, role.as_str())?;
        }
        Ok(())
    }
}

impl Executions {
    /// Every role on `execution`.
    pub const fn all(execution: Execution) -> Self {
        Self { det: execution, cls: execution, rec: execution, opinions: execution }
    }

    pub fn get(&self, role: Role) -> Execution {
        match role {
            Role::Det => self.det,
            Role::Cls => self.cls,
            Role::Rec => self.rec,
            Role::Opinions => self.opinions,
        }
    }

    fn get_mut(&mut self, role: Role) -> &mut Execution {
        match role {
            Role::Det => &mut self.det,
            Role::Cls => &mut self.cls,
            Role::Rec => &mut self.rec,
            Role::Opinions => &mut self.opinions,
        }
    }

    /// Apply a backend setting: `openvino` for every role, or `det=openvino,rec=cpu` for
    /// the roles named.
    pub fn set_backends(&mut self, setting: &str) -> Result<(), ExecutionError> {
        self.set_each(setting, |execution, value| {
            execution.backend = value.parse()?;
            Ok(())
        })
    }

    /// Apply a precision setting: `bf16` for every role, or `det=f32,rec=bf16`.
    pub fn set_precisions(&mut self, setting: &str) -> Result<(), ExecutionError> {
        self.set_each(setting, |execution, value| {
            execution.precision = value.parse()?;
            Ok(())
        })
    }

    fn set_each(
        &mut self,
        setting: &str,
        mut set: impl FnMut(&mut Execution, &str) -> Result<(), ExecutionError>,
    ) -> Result<(), ExecutionError> {
        if !setting.contains('=') {
            return Role::ALL.into_iter().try_for_each(|role| set(self.get_mut(role), setting));
        }
        // `+` too, so that an eval candidate's SPEC (itself split at commas) can name several.
        for pair in setting.split([',', '+']).filter(|p| !p.is_empty()) {
            let (role, value) = pair.split_once('=').ok_or_else(|| ExecutionError::Role(pair.into()))?;
            let role =
                Role::ALL.into_iter().find(|r| r.as_str() == role).ok_or_else(|| ExecutionError::Role(role.into()))?;
            set(self.get_mut(role), value)?;
        }
        Ok(())
    }

    /// Refuses bf16 on the CPU provider, which has no such setting.
    pub fn check(&self) -> Result<(), ExecutionError> {
        match Role::ALL
            .into_iter()
            .find(|&r| self.get(r) == Execution { backend: Backend::Cpu, precision: Precision::Bf16 })
        {
            Some(role) => Err(ExecutionError::Bf16OnCpu(role.as_str())),
            None => Ok(()),
        }
    }

    /// These settings as this CPU can run them: bf16 becomes f32 where the CPU has neither
    /// AVX512-BF16 nor AMX, which is logged once per process.
    pub fn effective(mut self) -> Self {
        static WARNED: std::sync::Once = std::sync::Once::new();
        if bf16_native() || !self.wants_bf16() {
            return self;
        }
        WARNED.call_once(|| tracing::warn!("{BF16_FALLBACK}"));
        for role in Role::ALL {
            self.get_mut(role).precision = Precision::F32;
        }
        self
    }

    /// Whether any role asks for bf16.
    pub fn wants_bf16(&self) -> bool {
        Role::ALL.into_iter().any(|r| self.get(r).precision == Precision::Bf16)
    }

    /// The ONNX Runtime library these settings need.
    pub fn library(&self) -> Library {
        if Role::ALL.into_iter().any(|r| self.get(r).backend == Backend::OpenVino) {
            Library::OpenVino
        } else {
            Library::Cpu
        }
    }
}

/// What a process asked for bf16 on a CPU without it is told.
pub const BF16_FALLBACK: &str =
    "this CPU has neither AVX512-BF16 nor AMX, so bf16 would be emulated: running f32 instead";

/// Whether this CPU computes bf16 natively, as OpenVINO's bf16 needs to be faster.
pub fn bf16_native() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        // AMX's detection is not stable in std; Linux lists it among the CPU's flags.
        let amx = || std::fs::read_to_string("/proc/cpuinfo").is_ok_and(|info| info.contains(" amx_bf16"));
        std::arch::is_x86_feature_detected!("avx512bf16") || amx()
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// The ONNX Runtime library a process loads, by its entry in `models/runtime.json`;
/// ordered by what it can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Library {
    /// `onnxruntime`'s: the CPU provider only.
    Cpu,
    /// `onnxruntime-openvino`'s: the OpenVINO provider and the CPU provider.
    OpenVino,
}

impl Library {
    /// Its entry in `models/runtime.json`; the entries whose names start with it and a dot
    /// are the files it loads beside itself.
    pub fn entry(self) -> &'static str {
        match self {
            Library::Cpu => "runtime",
            Library::OpenVino => "openvino",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CPU: Execution = Execution { backend: Backend::Cpu, precision: Precision::F32 };

    #[test]
    fn settings_apply_to_every_role_or_to_the_roles_named() {
        let mut e = Executions::all(CPU);
        e.set_backends("openvino").unwrap();
        assert!(Role::ALL.iter().all(|&r| e.get(r).backend == Backend::OpenVino));
        e.set_precisions("rec=bf16+opinions=bf16").unwrap();
        assert_eq!(
            (e.det.precision, e.rec.precision, e.opinions.precision),
            (Precision::F32, Precision::Bf16, Precision::Bf16)
        );
        e.set_backends("det=cpu,cls=cpu").unwrap();
        assert_eq!((e.det.backend, e.rec.backend), (Backend::Cpu, Backend::OpenVino));
        assert_eq!(e.library(), Library::OpenVino, "one role on OpenVINO loads its library");
        assert_eq!(Executions::all(CPU).library(), Library::Cpu);
    }

    #[test]
    fn bad_settings_are_named() {
        let mut e = Executions::all(CPU);
        assert!(matches!(e.set_backends("gpu"), Err(ExecutionError::Unknown { .. })));
        assert_eq!(e.set_precisions("box=bf16"), Err(ExecutionError::Role("box".into())));
        assert!(matches!(e.set_precisions("rec=f16"), Err(ExecutionError::Unknown { .. })));
        e.set_precisions("bf16").unwrap();
        assert_eq!(e.check(), Err(ExecutionError::Bf16OnCpu("det")), "the CPU provider has no bf16");
    }
}
