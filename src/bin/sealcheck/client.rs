//! `sealcheck client`: the service's calls from the command line, printed as the local
//! commands print them (same report, same exit codes).

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use sealcheck::Page;
use sealcheck::input::read_input;
use sealcheck::service::connect::{self, ClientCredentials, Connection, connect};
use sealcheck::service::pb::approved_document::Document;
use sealcheck::service::pb::{self, ApprovedDocument};
use sealcheck::verify::{Approved, Report};
use tonic::Code;

use crate::verify::{Colour, Status, print_report};

/// Where a service is and how to call it.
#[derive(clap::Args, Clone)]
pub struct ConnectArgs {
    /// The service's address; `https://` for TLS.
    #[arg(long, global = true, env = "SEALCHECK_SERVER", default_value = "http://127.0.0.1:50051", value_name = "URL")]
    pub server: String,
    #[command(flatten)]
    pub credentials: CredentialArgs,
}

/// How a client proves itself and checks the server; `client` and `audit --server` take them.
#[derive(clap::Args, Clone)]
pub struct CredentialArgs {
    /// The CA (PEM) that signed the server's certificate; TLS, with an https:// URL.
    #[arg(long, global = true, env = "SEALCHECK_CA", value_name = "FILE")]
    pub ca: Option<PathBuf>,
    /// This client's certificate (PEM), for a server that asks for one (mutual TLS); with --key.
    #[arg(long, global = true, env = "SEALCHECK_CERT", value_name = "FILE")]
    pub cert: Option<PathBuf>,
    /// This client's private key (PEM), with --cert.
    #[arg(long, global = true, env = "SEALCHECK_KEY", value_name = "FILE")]
    pub key: Option<PathBuf>,
    /// A file holding the bearer token the server expects (the token alone).
    #[arg(long, global = true, env = "SEALCHECK_CLIENT_TOKEN_FILE", value_name = "FILE")]
    pub token_file: Option<PathBuf>,
}

impl CredentialArgs {
    /// A connection to the service at `server` with these credentials.
    pub async fn connect(&self, server: &str) -> anyhow::Result<Connection> {
        let credentials = ClientCredentials {
            ca: self.ca.clone(),
            cert: self.cert.clone(),
            key: self.key.clone(),
            token_file: self.token_file.clone(),
        };
        Ok(connect(server, &credentials).await?)
    }
}

impl ConnectArgs {
    pub async fn connect(&self) -> anyhow::Result<Connection> {
        self.credentials.connect(&self.server).await
    }
}

#[derive(clap::Args)]
pub struct ClientArgs {
    #[command(flatten)]
    connect: ConnectArgs,
    /// Seconds to wait for an answer (sent as the call's deadline).
    #[arg(long, global = true, default_value_t = 60.0, value_name = "S")]
    timeout: f64,
    #[command(subcommand)]
    call: Call,
}

#[derive(clap::Subcommand)]
enum Call {
    /// Judge a capture against its approved document, as `sealcheck verify` does. Exit
    /// code: 0 match, 1 mismatch, 3 unreadable, 2 any trouble.
    Verify(VerifyCall),
    /// Read the text of a capture, as `sealcheck ocr` does.
    Recognize {
        /// The capture to read.
        #[arg(long, value_name = "IMG")]
        image: PathBuf,
        /// Print one JSON object instead of readable text.
        #[arg(long)]
        json: bool,
    },
    /// Prepare an approved document once and print its id, for `verify --approved-id`.
    Prepare {
        #[command(flatten)]
        document: DocumentArgs,
    },
    /// Print the service's version, model set, limits and policy defaults.
    Info,
}

/// An approved document given as files.
#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("document").args(["approved_text", "approved_image"])))]
struct DocumentArgs {
    /// The approved document as a UTF-8 text file.
    #[arg(long, value_name = "FILE")]
    approved_text: Option<PathBuf>,
    /// The approved document as page images, in order.
    #[arg(long, value_name = "IMG", num_args = 1..)]
    approved_image: Vec<PathBuf>,
}

#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("approved").required(true).multiple(true).args(["approved_text", "approved_image", "approved_id"])))]
struct VerifyCall {
    /// The capture to judge.
    #[arg(long, value_name = "IMG")]
    image: PathBuf,
    #[command(flatten)]
    document: DocumentArgs,
    /// The id of a document prepared earlier (`sealcheck client prepare`). With the
    /// document's files as well, a server that no longer has it is given it again.
    #[arg(long, value_name = "ID")]
    approved_id: Option<String>,
    /// Print every field of the verdict, the recognised lines and their provenance as JSON.
    #[arg(long)]
    json: bool,
    /// Also write the annotated capture the server draws.
    #[arg(long, value_name = "OUT.png")]
    annotate: Option<PathBuf>,
    /// Colour the readable report: auto, always or never.
    #[arg(long, value_enum, default_value = "auto")]
    colour: Colour,
    /// The request's id, echoed in the server's logs. Default: the capture's path.
    #[arg(long, value_name = "ID")]
    request_id: Option<String>,
}

pub fn run(args: &ClientArgs) -> anyhow::Result<u8> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        let client =
            Client { rpc: args.connect.connect().await?.api(), timeout: Duration::from_secs_f64(args.timeout) };
        client.call(&args.call).await
    })
}

struct Client {
    rpc: connect::Client,
    timeout: Duration,
}

impl Client {
    async fn call(mut self, call: &Call) -> anyhow::Result<u8> {
        match call {
            Call::Verify(verify) => self.verify(verify).await,
            Call::Recognize { image, json } => {
                let request = pb::RecognizeRequest { request_id: image.display().to_string(), image: read(image)? };
                let page = self.rpc.recognize(self.request(request)).await.map_err(answered)?.into_inner().page;
                let page = Page::try_from(page.context("the server sent no page")?)?;
                crate::ocr::print_page(&mut std::io::stdout().lock(), image, &page, *json)?;
                Ok(0)
            }
            Call::Prepare { document } => {
                println!("{}", self.prepare(load_document(document)?.context("no document given")?).await?);
                Ok(0)
            }
            Call::Info => {
                let info = self.rpc.get_info(self.request(pb::GetInfoRequest {})).await.map_err(answered)?;
                println!("{:#?}", info.into_inner());
                Ok(0)
            }
        }
    }

    /// Judge the capture; a prepared id the server no longer has is prepared again from
    /// the document's files, when given, and the call repeated.
    async fn verify(&mut self, call: &VerifyCall) -> anyhow::Result<u8> {
        let capture = read(&call.image)?;
        let document = load_document(&call.document)?;
        let approved = match (&call.approved_id, &document) {
            (Some(id), _) => Document::PreparedId(id.clone()),
            (None, Some(approved)) => Document::from(approved.clone()),
            (None, None) => anyhow::bail!("no approved document given"),
        };
        let request_id = call.request_id.clone().unwrap_or_else(|| call.image.display().to_string());
        let request = |approved| pb::VerifyRequest {
            request_id: request_id.clone(),
            image: capture.clone(),
            approved: Some(ApprovedDocument { document: Some(approved) }),
            annotate: call.annotate.is_some(),
            ..Default::default()
        };
        let mut answer = self.rpc.verify(self.request(request(approved))).await;
        if let (Err(status), Some(approved)) = (&answer, document)
            && status.code() == Code::NotFound
        {
            let id = self.prepare(approved).await?;
            answer = self.rpc.verify(self.request(request(Document::PreparedId(id)))).await;
        }
        let response = answer.map_err(answered)?.into_inner();
        let report = Report::try_from(response.report.context("the server sent no report")?)?;
        if let Some(out) = &call.annotate {
            std::fs::write(out, &response.annotated_png).with_context(|| format!("cannot write {}", out.display()))?;
        }
        print_report(&report, &call.image, call.json, call.colour)?;
        Ok(Status::Judged(report.verdict.outcome).code())
    }

    /// Prepare `approved` on the server; its id.
    async fn prepare(&mut self, approved: Approved) -> anyhow::Result<String> {
        let request = pb::PrepareApprovedRequest {
            request_id: String::new(),
            approved: Some(ApprovedDocument { document: Some(Document::from(approved)) }),
        };
        Ok(self.rpc.prepare_approved(self.request(request)).await.map_err(answered)?.into_inner().prepared_id)
    }

    fn request<T>(&self, message: T) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        request.set_timeout(self.timeout);
        request
    }
}

/// The document's files, read whole (within the input bound); `None` when none is given.
fn load_document(args: &DocumentArgs) -> anyhow::Result<Option<Approved>> {
    if let Some(path) = &args.approved_text {
        let text = String::from_utf8(read(path)?).with_context(|| format!("{} is not UTF-8 text", path.display()))?;
        return Ok(Some(Approved::Text(text)));
    }
    if args.approved_image.is_empty() {
        return Ok(None);
    }
    Ok(Some(Approved::Pages(args.approved_image.iter().map(|p| read(p)).collect::<anyhow::Result<_>>()?)))
}

fn read(path: &Path) -> anyhow::Result<Vec<u8>> {
    read_input(path).with_context(|| format!("cannot read {}", path.display()))
}

/// A failed call as one sentence: the server's code and message, and for refused
/// credentials what to give.
pub fn answered(status: tonic::Status) -> anyhow::Error {
    if status.code() == Code::Unauthenticated {
        return anyhow::anyhow!(
            "the server refused the call's credentials (UNAUTHENTICATED): {}; give a token it accepts with \
             --token-file",
            status.message()
        );
    }
    anyhow::anyhow!("the server answered {:?}: {}", status.code(), status.message())
}
