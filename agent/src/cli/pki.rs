//! `lvs-agent pki`: the CA, the appliance's certificate and operators'
//! identities for the management API, in one folder the operator keeps.

use lvs_agent::pki::{self, Revoked};
use std::net::IpAddr;
use std::path::PathBuf;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Make a new CA (ca.pem, ca.key), the appliance's certificate and key
    /// (server.pem: NAME and every --address) and the operator's identity
    /// (admin.pem) in DIR. Refuses to overwrite any of them.
    /// `lvs-image build --pki DIR` puts ca.pem and server.pem on the appliance.
    Init {
        /// The folder to write (made when missing, 0700). Keep ca.key safe: it signs identities.
        dir: PathBuf,
        /// The appliance's DNS name, as clients will address it.
        #[arg(long)]
        name: String,
        /// An address clients will reach the appliance at; once per address.
        #[arg(long = "address", value_name = "IP", required = true)]
        addresses: Vec<IpAddr>,
    },
    /// Issue another operator's identity, DIR/NAME.pem, signed by DIR's CA.
    Client {
        dir: PathBuf,
        /// The operator's name: letters, digits, '.', '_' and '-', at most 64. It is logged with each request.
        #[arg(long)]
        name: String,
    },
    /// Revoke DIR/NAME.pem: add its serial to DIR/crl.pem. Put the new crl.pem on the
    /// appliance (`lvs-image build --pki DIR`) for it to refuse that identity.
    Revoke {
        dir: PathBuf,
        #[arg(long)]
        name: String,
    },
}

pub fn run(command: Command) -> anyhow::Result<i32> {
    match command {
        Command::Init { dir, name, addresses } => {
            for path in pki::init(&dir, &name, &addresses)? {
                println!("wrote {}", path.display());
            }
            println!(
                "keep {} with you; the appliance gets {} and {} (`lvs-image build --pki {}`)",
                dir.join(pki::CA_KEY_FILE).display(),
                pki::CA_FILE,
                pki::SERVER_FILE,
                dir.display()
            );
        }
        Command::Client { dir, name } => {
            let path = pki::issue_client(&dir, &name, pki::client_validity())?;
            println!("wrote {}", path.display());
        }
        Command::Revoke { dir, name } => match pki::revoke(&dir, &name)? {
            Revoked::Added { crl, serial } => {
                println!("{name} (serial {serial}) revoked in {}", crl.display());
                println!("the appliance refuses it once it has this {} (`lvs-image build --pki`)", pki::CRL_FILE);
            }
            Revoked::Already { crl, serial } => {
                println!("{name} (serial {serial}) was revoked in {} already; left as it was", crl.display())
            }
        },
    }
    Ok(0)
}
