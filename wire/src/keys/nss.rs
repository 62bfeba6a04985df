//! Zscaler's own NSS variable names (the `%s{…}` names of the NSS feed templates). ztel's
//! recommended feed formats use them as keys, and so do Splunk's key=value output and the default
//! CSV columns. `e…` variables are %HH-encoded, `b64…` ones base64.
//!
//! [`KEYS`] are the variables whose values records use (or whose names say the log type);
//! [`VARIABLES`] the other documented ones of the types whose positional field order can be
//! configured (web, firewall, DNS), so that a configured order naming them is accepted
//! ([`is_variable`]). Names also listed by another dialect are listed here with the same meaning.

use super::Key;

#[rustfmt::skip]
pub const KEYS: &[Key] = crate::dialect! {
    // Every type.
    "epochtime" => EpochTime; zia;
    "time" => Time;
    "datetime" => DateTime; zia;
    "tz" => Tz;
    "recordid" => RecordId; zia;
    "login" => Login, all; zia;
    "elogin" => Login, all; zia;
    "b64login" => Login, b64; zia;
    "user" => Login, all; zia;
    "dept" => Department, all; zia;
    "department" => Department, all; zia;
    "edepartment" => Department, all; zia;
    "b64dept" => Department, b64; zia;
    "location" => Location, all; zia;
    "elocation" => Location, all; zia;
    "b64location" => Location, b64; zia;
    "deviceowner" => DeviceOwner; zia;
    // Lenient, as `login`: Elastic's web template (v11) writes `%s{edevicehostname}` here.
    "devicehostname" => DeviceHostname, all; zia;
    "edevicehostname" => DeviceHostname, all; zia;
    "company" => Company; zia;
    "cip" => ClientIp; zia;
    "cintip" => ClientIntIp; zia;
    "clt_sport" => ClientPort; zia;
    "sip" => ServerIp; zia;
    "srv_dport" => ServerPort; zia;
    "action" => Action;
    // Lenient, as `preaction` below: Elastic's firewall template puts `%s{erulelabel}` and
    // `%s{ethreatname}` here.
    "rulelabel" => Rule, all; zia;
    "erulelabel" => Rule, all; zia;
    "b64rulelabel" => Rule, b64; zia;
    "threatname" => Threat, all; zia;
    "ethreatname" => Threat, all; zia;
    "b64threatname" => Threat, b64; zia;
    "appname" => App; zia;
    "durationms" => DurationMs; zia;
    "duration" => DurationSecs; zia;
    "reason" => Other; zia;
    // Web.
    "proto" => Proto; zia;
    "url" => Url, pct; k(ZiaWeb);
    "eurl" => Url, pct; k(ZiaWeb);
    "b64url" => Url, b64; k(ZiaWeb);
    "host" => Host, pct; k(ZiaWeb);
    "ehost" => Host, pct; k(ZiaWeb);
    "b64host" => Host, b64; k(ZiaWeb);
    "reqmethod" => Method; k(ZiaWeb);
    "respcode" => RespCode; k(ZiaWeb);
    "reqsize" => BytesOut; k(ZiaWeb);
    "respsize" => BytesIn; k(ZiaWeb);
    "urlcat" => Category; k(ZiaWeb);
    "b64urlcat" => Category, b64; k(ZiaWeb);
    // Plain: Elastic's template writes `%s{ua}` here, and CFNetwork agents hold `%20` as text
    // (`Slack%20Helper/4.33`); no published template puts `%s{eua}` under this name.
    "ua" => UserAgent; k(ZiaWeb);
    "eua" => UserAgent, pct; k(ZiaWeb);
    "b64ua" => UserAgent, b64; k(ZiaWeb);
    "referer" => Referer, pct; k(ZiaWeb);
    "ereferer" => Referer, pct; k(ZiaWeb);
    // Elastic's web templates (v9 on) send the referer only in base64.
    "b64referer" => Referer, b64; k(ZiaWeb);
    "riskscore" => RiskScore; k(ZiaWeb);
    "malwarecat" => ThreatCategory; k(ZiaWeb);
    "urlsupercat" => Other; k(ZiaWeb);
    "urlclass" => Other; k(ZiaWeb);
    "appclass" => Other; k(ZiaWeb);
    // Firewall.
    "csip" => ClientIp; k(ZiaFirewall);
    "csport" => ClientPort; k(ZiaFirewall);
    "cdip" => ServerIp; k(ZiaFirewall);
    "cdport" => ServerPort; k(ZiaFirewall);
    "cdfqdn" => DstFqdn; k(ZiaFirewall);
    "ssip" => NatIp; k(ZiaFirewall);
    "ssport" => NatPort; k(ZiaFirewall);
    "sdip" => Other; k(ZiaFirewall);
    "sdport" => Other; k(ZiaFirewall);
    "ipproto" => Proto; k(ZiaFirewall);
    "nwsvc" => NwSvc; k(ZiaFirewall);
    "nwapp" => App; k(ZiaFirewall);
    "inbytes" => BytesIn; k(ZiaFirewall);
    "outbytes" => BytesOut; k(ZiaFirewall);
    "threatcat" => ThreatCategory; k(ZiaFirewall);
    "ipcat" => Other; k(ZiaFirewall);
    "avgduration" => Other; k(ZiaFirewall);
    "numsessions" => Other; k(ZiaFirewall);
    "tsip" => Other; k(ZiaFirewall);
    "ttype" => Other; k(ZiaFirewall);
    "dnat" => Other; k(ZiaFirewall);
    "stateful" => Other; k(ZiaFirewall);
    "aggregate" => Other; k(ZiaFirewall);
    "ipsrulelabel" => Other; k(ZiaFirewall);
    "destcountry" => Other; k(ZiaFirewall);
    // DNS.
    "req" => Query; k(ZiaDns);
    "ednsreq" => Query, pct; k(ZiaDns);
    "reqtype" => QueryType; k(ZiaDns);
    "res" => Answer; k(ZiaDns);
    "reqaction" => Action; k(ZiaDns);
    "resaction" => ResponseAction; k(ZiaDns);
    "reqrulelabel" => Rule, all; k(ZiaDns);
    "resrulelabel" => ResponseRule, all; k(ZiaDns);
    "domcat" => Category; k(ZiaDns);
    "respipcat" => Other; k(ZiaDns);
    "dnsappcat" => Other; k(ZiaDns);
    "sport" => ServerPort; k(ZiaDns);
    "istcp" => IsTcp; k(ZiaDns);
    "dnsapp" => App; k(ZiaDns);
    "protocol" => Proto;
    // Tunnel.
    "tunnelactionname" => RecordType; k(ZiaTunnel);
    "tunneltype" => TunnelType; k(ZiaTunnel);
    "vpncredentialname" => Login; k(ZiaTunnel);
    "locationname" => Location, all; zia;
    "elocationname" => Location, all; zia;
    "sourceip" => ClientIp; k(ZiaTunnel);
    "destvip" => ServerIp; k(ZiaTunnel);
    "srcport" => ClientPort; k(ZiaTunnel);
    "dstport" => ServerPort; k(ZiaTunnel);
    "event" => TunnelEvent; k(ZiaTunnel);
    "eventreason" => EventReason; k(ZiaTunnel);
    "ikeversion" => IkeVersion; k(ZiaTunnel);
    "lifetime" => Lifetime; k(ZiaTunnel);
    "lifebytes" => LifeBytes; k(ZiaTunnel);
    "spi_in" => SpiIn; k(ZiaTunnel);
    "spi_out" => SpiOut; k(ZiaTunnel);
    "spi" => Spi; k(ZiaTunnel);
    "algo" => Algo; k(ZiaTunnel);
    "authentication" => Authentication; k(ZiaTunnel);
    "authtype" => AuthType; k(ZiaTunnel);
    "tunnelprotocol" => TunnelProtocol; k(ZiaTunnel);
    "policydirection" => PolicyDirection; k(ZiaTunnel);
    "srcipstart" => SrcIpStart; k(ZiaTunnel);
    "srcipend" => SrcIpEnd; k(ZiaTunnel);
    "destipstart" => DstIpStart; k(ZiaTunnel);
    "destipend" => DstIpEnd; k(ZiaTunnel);
    "srcportstart" => SrcPortStart; k(ZiaTunnel);
    "destportstart" => DstPortStart; k(ZiaTunnel);
    "vendorname" => Vendor; k(ZiaTunnel);
    "rxbytes" => BytesIn; k(ZiaTunnel);
    "txbytes" => BytesOut; k(ZiaTunnel);
    "rxpackets" => PacketsIn; k(ZiaTunnel);
    "txpackets" => PacketsOut; k(ZiaTunnel);
    "dpdrec" => DpdRec; k(ZiaTunnel);
    // Admin audit.
    "adminid" => Login; k(ZiaAudit);
    "category" => Category;
    "subcategory" => Subcategory; k(ZiaAudit);
    "resource" => Resource; k(ZiaAudit);
    "interface" => Interface; k(ZiaAudit);
    "clientip" => ClientIp; k(ZiaAudit);
    "result" => Result; k(ZiaAudit);
    "errorcode" => ErrorCode; k(ZiaAudit);
    "auditlogtype" => AuditLogType; k(ZiaAudit);
    // Percent-decoded leniently (only bytes NSS escapes): CEF and other presets put the
    // encoded `epreaction` under this name.
    "preaction" => PreAction, all; k(ZiaAudit);
    "epreaction" => PreAction, all; k(ZiaAudit);
    "postaction" => PostAction, all; k(ZiaAudit);
    "epostaction" => PostAction, all; k(ZiaAudit);
    // SaaS Security.
    "tenant" => Tenant; zia;
    "applicationname" => App; zia;
    "filename" => FileName; k(ZiaSaas);
    "filesource" => FileSource; k(ZiaSaas);
    "filemd5" => FileMd5; k(ZiaSaas);
    "policy" => Policy; zia;
    "dlpdictnames" => DlpDictionaries; k(ZiaSaas);
    "dlpdictcount" => DlpDictCount; k(ZiaSaas);
    "dlpenginenames" => DlpEngines; k(ZiaSaas);
    "fullurl" => Url; k(ZiaSaas);
    "lastmodtime" => LastModified; k(ZiaSaas);
    "filescantimems" => ScanTimeMs; k(ZiaSaas);
    "filedownloadtimems" => DownloadTimeMs; k(ZiaSaas);
    // SaaS Security Activity: Zscaler's field table ("NSS Feed Output Format: SaaS Security
    // Activity Logs") names `objtypename1` and `act_type_name`; Sekoia's template and that
    // page's sample have the numeric `%d{objtype1}`.
    "username" => Login; zia;
    "objtypename1" => ObjectType; k(ZiaSaasActivity);
    "objtype1" => ObjectType; k(ZiaSaasActivity);
    "objtypename2" => Other; k(ZiaSaasActivity);
    "objnames1" => ObjectName; k(ZiaSaasActivity);
    "objnames2" => ObjectName2; k(ZiaSaasActivity);
    "act_type_name" => ActivityType; k(ZiaSaasActivity);
    "act_cnt" => ActivityCount; k(ZiaSaasActivity);
    // The external owner of what SaaS Security scanned as well: no vote for the activity type.
    "extownername" => ExternalOwner; zia;
    // Endpoint DLP and Email DLP, which have no record: without an envelope's sourcetype, one
    // of their own keys makes a frame `unknown_type` (an Endpoint DLP event alone read as
    // SaaS Security by the file keys it shares).
    "itemsrcname" => Other; unmapped;
    "itemdstname" => Other; unmapped;
    "filesrcpath" => Other; unmapped;
    "filedstpath" => Other; unmapped;
    "expectedaction" => Other; unmapped;
    "triggeredrcpts" => Other; unmapped;
    "otherrcpts" => Other; unmapped;
    "mailsenttime" => Other; unmapped;
};

/// The other documented variables of web, firewall and DNS logs (no record uses their values),
/// and `stime`, `ctime` and `tsport`, which older default output formats name.
#[rustfmt::skip]
pub const VARIABLES: &[&str] = &[
    "activity", "all_dlprulenames", "alpnprotocol", "app_risk_score", "app_status", "apprulelabel",
    "b64apprulelabel", "b64dlprulename", "b64filename", "b64fwd_gw_name", "b64mobappname",
    "b64rdr_rulename", "b64upload_filename", "b64urlfilterrulelabel", "b64userlocationname", "b64zpa_app_seg_name",
    "bamd5", "bwclassname", "bwrulename", "bwthrottle", "bypass_etime", "bypassed_etime",
    "bypassed_session", "bypassed_traffic", "client_tls_keyex_alg",
    "client_tls_keyex_hybrid_offers", "client_tls_keyex_non_pqc_offers",
    "client_tls_keyex_pqc_offers", "client_tls_keyex_unknown_offers", "client_tls_sig_alg",
    "client_tls_sig_hybrid_offers", "client_tls_sig_non_pqc_offers", "client_tls_sig_pqc_offers",
    "client_tls_sig_unknown_offers", "clientsslcipher", "clientsslsessreuse", "clienttlsversion",
    "cloudname", "cltsslfailcount", "cltsslfailreason", "contenttype", "cpubip", "ctime",
    "datacenter", "datacentercity", "datacentercountry", "day", "dd", "deviceappversion",
    "devicemodel", "devicename", "deviceostype", "deviceosversion", "devicetype", "df_hosthead",
    "df_hostname", "dlpdict", "dlpdicthitcount", "dlpeng", "dlpidentifier", "dlpmd5", "dlprulename",
    "dnatrulelabel", "dnsgw_flags", "dnsgw_slot", "dnsgw_srv_proto", "dstip_country",
    "eapprulelabel", "ecs_prefix", "ecs_slot", "edevicename", "eedone", "efilename", "emobappname",
    "erefererhost", "erefererpath", "error", "eupload_filename", "eurlfilterrulelabel", "eurlpath",
    "euserlocationname", "external_deviceid", "external_devid", "externalspr", "fileclass",
    "filesubtype", "filetype", "flow_type", "ft_rulename", "fwd_gw_ip", "fwd_gw_name", "fwd_type",
    "hh", "http_code", "inst_level1_id", "inst_level1_name", "inst_level1_type", "inst_level2_id",
    "inst_level2_name", "inst_level2_type", "inst_level3_id", "inst_level3_name",
    "inst_level3_type", "ips_custom_signature", "is_dst_cntry_risky", "is_src_cntry_risky",
    "is_sslexpiredca", "is_sslselfsigned", "is_ssluntrustedca", "keyprotectiontype", "malwareclass",
    "mm", "mobappcat", "mobappname", "mobdevtype", "mon", "mth", "nsssvcip", "oapprulelabel",
    "obwclassname", "ocip", "ocpubip", "ocsip", "odevicehostname", "odevicename", "odeviceowner",
    "odlpdict", "odlpeng", "odlprulename", "odnatrulelabel", "odomcat", "ofwd_gw_name", "oipcat",
    "oipsrulelabel", "ologin", "ordr_rulename", "orulelabel", "other_dlprulenames", "ourlcat",
    "ourlfilterrulelabel", "ozpa_app_seg_name", "pcapid", "productversion", "prompt_req",
    "rdr_rulename", "refererhost", "reqdatasize", "reqhdrsize", "reqversion", "respdatasize",
    "resphdrsize", "respversion", "restype", "ruletype", "server_tls_keyex_alg",
    "server_tls_sig_alg", "serversslsessreuse", "sha256", "srcip_country", "srvcertchainvalpass",
    "srvcertvalidationtype", "srvcertvalidityperiod", "srvocspresult", "srvsslcipher",
    "srvtlsversion", "srvwildcardcert", "ss", "ssl_rulename", "ssldecrypted", "stime",
    "threat_score", "threat_severity", "threatseverity", "throttlereqsize", "throttlerespsize",
    "totalsize", "trafficredirectmethod", "trig_dlprulename", "tsport", "ua_token", "uaclass",
    "unscannabletype", "upload_doc_sub_type", "upload_doctypename", "upload_fileclass",
    "upload_filename", "upload_filesubtype", "upload_filetype", "urlcatmethod",
    "urlfilterrulelabel", "userlocationname", "yyyy", "zpa_app_seg_name", "ztunnelversion",
];

/// Whether `name` is an NSS variable ztel knows.
pub fn is_variable(name: &str) -> bool {
    KEYS.iter().any(|k| k.name == name) || VARIABLES.contains(&name)
}
