//! Elastic's NSS and Cloud NSS feed templates (`zscaler_zia` integration, v1 to v11), and the
//! nested objects of the newer SaaS Security ones, whose keys are written as dotted paths.

use super::Key;

#[rustfmt::skip]
pub const KEYS: &[Key] = crate::dialect! {
    // Web.
    "cltip" => ClientIp; k(ZiaWeb);
    "cltintip" => ClientIntIp; k(ZiaWeb);
    "cltsourceport" => ClientPort; k(ZiaWeb);
    "cltpubip" => Other; k(ZiaWeb);
    "serverip" => ServerIp; zia;
    "host" => Host, pct; k(ZiaWeb);
    "urlsubcat" => Category; k(ZiaWeb);
    "refererurl" => Referer, pct; k(ZiaWeb);
    "malwarecategory" => ThreatCategory; k(ZiaWeb);
    "useragent" => UserAgent, pct; k(ZiaWeb);
    // Firewall.
    "cltdomain" => DstFqdn; k(ZiaFirewall);
    "rule" => Rule; zia;
    "threat_name" => Threat; k(ZiaFirewall);
    "datetime" => DateTime; zia;
    "timezone" => Tz; zia;
    // DNS.
    "clt_sip" => ClientIp; k(ZiaDns);
    "srv_dip" => ServerIp; k(ZiaDns);
    "dns_req" => Query; k(ZiaDns);
    "dns_reqtype" => QueryType; k(ZiaDns);
    "dns_resp" => Answer; k(ZiaDns);
    "loc" => Location; k(ZiaDns);
    // Tunnel.
    "Recordtype" => RecordType; k(ZiaTunnel);
    "destinationip" => ServerIp; k(ZiaTunnel);
    "sourceport" => ClientPort; zia;
    "destinationport" => ServerPort; k(ZiaTunnel);
    "destinationipstart" => DstIpStart; k(ZiaTunnel);
    "destinationipend" => DstIpEnd; k(ZiaTunnel);
    "destinationportstart" => DstPortStart; k(ZiaTunnel);
    "sourceportstart" => SrcPortStart; k(ZiaTunnel);
    // SaaS Security (`zscalernss-saas_security`) and its activity, nested objects as paths.
    "record_id" => RecordId; zia;
    "user_name" => Login; zia;
    "src_ip" => ClientIp; zia;
    "event_time" => Time; zia;
    "application.name" => App; zia;
    "company.name" => Company; zia;
    "rule.label" => Rule; zia;
    // `threat.indicator.name` is `%s{threatname}`, which every other template writes as the
    // threat; `threat.malware` (`%s{malware}`), after it, only where NSS wrote no threat name.
    "threat.indicator.name" => Threat; k(ZiaSaas);
    "threat.malware" => Threat; k(ZiaSaas);
    "dlp.dict_names" => DlpDictionaries; k(ZiaSaas);
    "dlp.dict_counts" => DlpDictCount; k(ZiaSaas);
    "dlp.engine_names" => DlpEngines; k(ZiaSaas);
    "file.name" => FileName; k(ZiaSaas);
    "file.hash.md5" => FileMd5; k(ZiaSaas);
    "file.directory" => FileSource; k(ZiaSaas);
    // CRM, ITSM and Repository write `%s{filepath}` here, where the others have a directory.
    "file.path" => FileSource; k(ZiaSaas);
    // The email subtype's attachments (`%s{attchcomponentfilenames}`, `…md5s}`), which
    // Sentinel's email preset writes as `fname` and `fileHash`. No vote: Email DLP, which has no
    // record, writes them too.
    "email.attachments.file_names" => FileName; zia;
    "email.attachments.md5s" => FileMd5; zia;
    "file.full_url" => Url; k(ZiaSaas);
    "file.last_modified_time" => LastModified; k(ZiaSaas);
    "file.scan_time_ms" => ScanTimeMs; k(ZiaSaas);
    "file.download_time_ms" => DownloadTimeMs; k(ZiaSaas);
    "activity.type" => ActivityType; k(ZiaSaasActivity);
    "activity.count" => ActivityCount; k(ZiaSaasActivity);
    "is_admin" => AdminActivity; k(ZiaSaasActivity);
    "external_owner" => ExternalOwner; k(ZiaSaasActivity);
    "object.type" => ObjectType; k(ZiaSaasActivity);
    "object.names" => ObjectName; k(ZiaSaasActivity);
    "object.subnames" => ObjectName2; k(ZiaSaasActivity);
};
