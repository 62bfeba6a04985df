use crate::*;
use serde_json::json;

/// ZPA JSON: each log type's LSS JSON template as the ZPA API returns it ("Getting Details of
/// All LSS Log Formats", help.zscaler.com/zpa/managing-log-streaming-service-configurations-
/// using-api; `zpn_trans_log`, `zpn_auth_log`, `zpn_http_trans_log`, `zpn_ast_auth_log`,
/// `zpn_audit_log`), every variable filled in (`%j` a JSON string, `%d`/`%f` a number,
/// `[%j(,){…}]` an array of strings).
pub(crate) fn zpa_json_cells() -> Vec<Cell> {
    vec![
        cell(
            "user_activity",
            "zpa.user_activity",
            concat!(
                r#"{"LogTimestamp": "Mon Jun 20 15:40:12 2022","Customer": "Example Inc","#,
                r#""SessionID": "SqyZIMkg0JTj7EABsvwA","#,
                r#""ConnectionID": "SqyZIMkg0JTj7EABsvwA,Q+EjXGdrvbF2lPiBbedm","#,
                r#""InternalReason": "","ConnectionStatus": "close","IPProtocol": 6,"#,
                r#""DoubleEncryption": 0,"Username": "jane@example.com","ServicePort": 443,"#,
                r#""ClientPublicIP": "198.51.100.4","ClientPrivateIP": "10.1.2.3","#,
                r#""ClientLatitude": 40.700000,"ClientLongitude": -74.000000,"#,
                r#""ClientCountryCode": "US","ClientZEN": "US-NY-8179","#,
                r#""Policy": "Allow Intranet","Connector": "dc1-connector-1","#,
                r#""ConnectorZEN": "US-NY-8179","ConnectorIP": "10.0.0.5","ConnectorPort": 51146,"#,
                r#""Host": "intranet.example.com","Application": "Intranet","#,
                r#""AppGroup": "Web Apps","Server": "0","ServerIP": "10.20.0.8","#,
                r#""ServerPort": 443,"#,
                r#""PolicyProcessingTime": 28,"ServerSetupTime": 465,"#,
                r#""TimestampConnectionStart": "2022-06-20T15:40:11.230Z","#,
                r#""TimestampConnectionEnd": "2022-06-20T15:40:12.540Z","#,
                r#""TimestampCATx": "2022-06-20T15:40:11.230Z","#,
                r#""TimestampCARx": "2022-06-20T15:40:11.231Z","TimestampAppLearnStart": "","#,
                r#""TimestampZENFirstRxClient": "2022-06-20T15:40:11.424Z","#,
                r#""TimestampZENFirstTxClient": "2022-06-20T15:40:11.700Z","#,
                r#""TimestampZENLastRxClient": "2022-06-20T15:40:12.348Z","#,
                r#""TimestampZENLastTxClient": "2022-06-20T15:40:12.500Z","#,
                r#""TimestampConnectorZENSetupComplete": "2022-06-20T15:40:11.422Z","#,
                r#""TimestampZENFirstRxConnector": "2022-06-20T15:40:11.690Z","#,
                r#""TimestampZENFirstTxConnector": "2022-06-20T15:40:11.424Z","#,
                r#""TimestampZENLastRxConnector": "2022-06-20T15:40:12.490Z","#,
                r#""TimestampZENLastTxConnector": "2022-06-20T15:40:12.350Z","#,
                r#""ZENTotalBytesRxClient": 2133,"ZENBytesRxClient": 2133,"#,
                r#""ZENTotalBytesTxClient": 5981,"ZENBytesTxClient": 5981,"#,
                r#""ZENTotalBytesRxConnector": 5981,"ZENBytesRxConnector": 5981,"#,
                r#""ZENTotalBytesTxConnector": 2133,"ZENBytesTxConnector": 2133,"#,
                r#""Idp": "Example IdP","ClientToClient": "0","ClientCity": "New York","#,
                r#""MicroTenantID": "0","AppMicroTenantID": "0","PRAConnectionID": "","#,
                r#""PRAConsoleType": "","PRAApprovalID": 0,"PRACapabilityPolicyID": 0,"#,
                r#""PRACredentialPolicyID": 0,"PRACredentialUserName": "","#,
                r#""PRACredentialLoginType": "","PRAErrorStatus": "","PRAFileTransferList": "","#,
                r#""PRARecordingStatus": "","PRASharedUsersList": "","PRASessionType": "","#,
                r#""PRASharedMode": ""}"#,
            ),
            &[
                ("ts", json!("2022-06-20T15:40:11.230Z")),
                ("user", json!("jane@example.com")),
                ("client_ip", json!("10.1.2.3")),
                ("connector_ip", json!("10.0.0.5")),
                ("dst_ip", json!("10.20.0.8")),
                ("dst_port", json!(443)),
            ],
        ),
        cell(
            "user_status",
            "zpa.user_status",
            concat!(
                r#"{"LogTimestamp": "Mon Jun 20 15:41:02 2022","Customer": "Example Inc","#,
                r#""Username": "jane@example.com","SessionID": "cKgzUERSLl09Y+ytH8v5","#,
                r#""SessionStatus": "ZPN_STATUS_AUTHENTICATED","Version": "4.1.0.102","#,
                r#""ZEN": "US-NY-8179","#,
                r#""CertificateCN": "ZYwE3Nf2kIuJvEqKR5jgjtGCzK/vzA==@example.com","#,
                r#""PrivateIP": "10.1.2.3","PublicIP": "198.51.100.4","Latitude": 40.700000,"#,
                r#""Longitude": -74.000000,"CountryCode": "US","#,
                r#""TimestampAuthentication": "2022-06-20T15:40:58.000Z","#,
                r#""TimestampUnAuthentication": "","TotalBytesRx": 31274866,"#,
                r#""TotalBytesTx": 25424152,"Idp": "Example IdP","Hostname": "LAPTOP-7","#,
                r#""Platform": "windows","ClientType": "zpn_client_type_zapp","#,
                r#""TrustedNetworks": ["145248739466947538"],"TrustedNetworksNames": ["HQ-LAN"],"#,
                r#""SAMLAttributes": "myname:jane,myemail:jane@example.com","#,
                r#""PosturesHit": ["sm-posture1"],"PosturesMiss": [],"ZENLatitude": 40.000000,"#,
                r#""ZENLongitude": -74.000000,"ZENCountryCode": "US","FQDNRegistered": "0","#,
                r#""FQDNRegisteredError": "","City": "New York","MicroTenantID": "0"}"#,
            ),
            &[
                ("user", json!("jane@example.com")),
                ("device", json!("LAPTOP-7")),
                ("client_ip", json!("10.1.2.3")),
                ("client_public_ip", json!("198.51.100.4")),
                ("session_id", json!("cKgzUERSLl09Y+ytH8v5")),
            ],
        ),
        cell(
            "browser_access",
            "zpa.browser_access",
            concat!(
                r#"{"LogTimestamp":"Mon Jun 20 15:42:00 2022","ConnectionID":"","#,
                r#""Exporter":"unset","#,
                r#""TimestampRequestReceiveStart":"2022-06-20T15:41:59.866Z","#,
                r#""TimestampRequestReceiveHeaderFinish":"2022-06-20T15:41:59.866Z","#,
                r#""TimestampRequestReceiveFinish":"2022-06-20T15:41:59.866Z","#,
                r#""TimestampRequestTransmitStart":"2022-06-20T15:41:59.870Z","#,
                r#""TimestampRequestTransmitFinish":"2022-06-20T15:41:59.870Z","#,
                r#""TimestampResponseReceiveStart":"2022-06-20T15:41:59.950Z","#,
                r#""TimestampResponseReceiveFinish":"2022-06-20T15:41:59.951Z","#,
                r#""TimestampResponseTransmitStart":"2022-06-20T15:41:59.951Z","#,
                r#""TimestampResponseTransmitFinish":"2022-06-20T15:41:59.952Z","#,
                r#""TotalTimeRequestReceive":0,"TotalTimeRequestTransmit":0,"#,
                r#""TotalTimeResponseReceive":1083,"TotalTimeResponseTransmit":1000,"#,
                r#""TotalTimeConnectionSetup":3120,"TotalTimeServerResponse":80000,"#,
                r#""Method":"GET","Protocol":"HTTPS","Host":"portal.example.com","#,
                r#""URL":"/index.html","UserAgent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64)","#,
                r#""XFF":"","NameID":"jane@example.com","StatusCode":200,"RequestSize":612,"#,
                r#""ResponseSize":5120,"ApplicationPort":443,"ClientPublicIp":"198.51.100.4","#,
                r#""ClientPublicPort":61000,"ClientPrivateIp":"","Customer":"Example Inc","#,
                r#""ConnectionStatus":"","ConnectionReason":"","#,
                r#""Origin":"https://portal.example.com","CorsToken":"token_created"}"#,
            ),
            &[
                ("user", json!("jane@example.com")),
                ("client_public_ip", json!("198.51.100.4")),
                ("client_public_port", json!(61000)),
                ("dst_host", json!("portal.example.com")),
                ("http_status", json!(200)),
            ],
        ),
        cell(
            "app_connector_status",
            "zpa.app_connector_status",
            concat!(
                r#"{"LogTimestamp": "Mon Jun 20 15:43:10 2022","Customer": "Example Inc","#,
                r#""SessionID": "NNz9t5AY1Rq5dzyLbNRB","#,
                r#""SessionType": "ZPN_ASSISTANT_BROKER_CONTROL","#,
                r#""SessionStatus": "ZPN_STATUS_AUTHENTICATED","Version": "22.117.1","#,
                r#""Platform": "el7","ZEN": "US-NY-8180","Connector": "dc1-connector-1","#,
                r#""ConnectorGroup": "DC1 Connectors","PrivateIP": "10.0.0.5","#,
                r#""PublicIP": "203.0.113.50","Latitude": 40.700000,"Longitude": -74.000000,"#,
                r#""CountryCode": "US","TimestampAuthentication": "2022-06-20T09:12:00.000Z","#,
                r#""TimestampUnAuthentication": "","CPUUtilization": 3,"MemUtilization": 41,"#,
                r#""ServiceCount": 12,"InterfaceDefRoute": "eth0","DefRouteGW": "10.0.0.1","#,
                r#""PrimaryDNSResolver": "10.0.0.2","HostStartTime": "1655200000","#,
                r#""ConnectorStartTime": "1655200100","NumOfInterfaces": 1,"#,
                r#""BytesRxInterface": 8877665,"PacketsRxInterface": 55432,"#,
                r#""ErrorsRxInterface": 0,"DiscardsRxInterface": 0,"BytesTxInterface": 7766554,"#,
                r#""PacketsTxInterface": 44321,"ErrorsTxInterface": 0,"DiscardsTxInterface": 0,"#,
                r#""TotalBytesRx": 1234567,"TotalBytesTx": 7654321,"MicroTenantID": "0"}"#,
            ),
            &[
                ("connector", json!("dc1-connector-1")),
                ("connector_group", json!("DC1 Connectors")),
                ("session_id", json!("NNz9t5AY1Rq5dzyLbNRB")),
                ("private_ip", json!("10.0.0.5")),
                ("public_ip", json!("203.0.113.50")),
            ],
        ),
        cell(
            "audit",
            "zpa.audit",
            concat!(
                r#"{"ModifiedTime":"2022-06-20T15:44:30.000Z","#,
                r#""CreationTime":"2022-06-20T15:44:30.000Z","ModifiedBy":72058304855015574,"#,
                r#""RequestID":"a12aa12a-1234-aab1-123a-b123456a7890","#,
                r#""SessionID":"wrhjkdghjghfjhgsjfjgfj1l6s16u","AuditOldValue":"","#,
                r#""AuditNewValue":"{\"id\":\"72058304855047746\","#,
                r#"\"name\":\"intranet.example.com\","#,
                r#"\"domain\":\"intranet.example.com\",\"applicationPort\":\"443\","#,
                r#"\"applicationProtocol\":\"HTTPS\"}","AuditOperationType":"Create","#,
                r#""ObjectType":"Browser Access","ObjectName":"intranet.example.com","#,
                r#""ObjectID":72058304855047746,"CustomerID":72058304855015424,"#,
                r#""User":"admin@example.com","ClientAuditUpdate":0}"#,
            ),
            &[
                ("user", json!("admin@example.com")),
                ("operation", json!("Create")),
                ("object_type", json!("Browser Access")),
                ("object_name", json!("intranet.example.com")),
                ("request_id", json!("a12aa12a-1234-aab1-123a-b123456a7890")),
            ],
        ),
    ]
}

#[test]
fn json_every_zpa_log_type() {
    let cells = zpa_json_cells();
    assert_eq!(cells.len(), 5);
    check("ZPA JSON", &cells);
}

/// ZPA's CSV and TSV templates (the same API answer: `zpn_auth_log` csv, `zpn_trans_log` tsv,
/// `zpn_http_trans_log` csv, `zpn_ast_auth_log` csv, `zpn_audit_log` csv and tsv), filled in
/// with the values of the JSON frames above (Audit's with a sign-in's): each reads as the JSON
/// frame of its log type does (ztel knows each type's default order), but for an audit line
/// stripped of its static text.
pub(crate) const ZPA_POSITIONAL: &[(&str, &str)] = &[
    (
        "user_status csv",
        concat!(
            "Mon Jun 20 15:41:02 2022 User Status zpa-lss: ,Example Inc,jane@example.com,",
            "cKgzUERSLl09Y+ytH8v5,ZPN_STATUS_AUTHENTICATED,4.1.0.102,US-NY-8179,",
            "ZYwE3Nf2kIuJvEqKR5jgjtGCzK/vzA==@example.com,10.1.2.3,198.51.100.4,40.700000,",
            "-74.000000,US,2022-06-20T15:40:58.000Z,,31274866,25424152,Example IdP,LAPTOP-7,",
            "windows,zpn_client_type_zapp,145248739466947538,HQ-LAN,myname:jane,sm-posture1,,",
            "40.000000,-74.000000,US,0,,New York,0",
        ),
    ),
    (
        "user_activity tsv",
        concat!(
            "Mon Jun 20 15:40:12 2022 User Activity zpa-lss: \tExample Inc\t",
            "SqyZIMkg0JTj7EABsvwA\tSqyZIMkg0JTj7EABsvwA,Q+EjXGdrvbF2lPiBbedm\t\tclose\t6\t0\t",
            "jane@example.com\t443\t198.51.100.4\t10.1.2.3\t40.700000\t-74.000000\tUS\t",
            "US-NY-8179\tAllow Intranet\tdc1-connector-1\tUS-NY-8179\t10.0.0.5\t51146\t",
            "intranet.example.com\tIntranet\tWeb Apps\t0\t10.20.0.8\t443\t28\t465\t",
            "2022-06-20T15:40:11.230Z\t2022-06-20T15:40:12.540Z\t2022-06-20T15:40:11.230Z\t",
            "2022-06-20T15:40:11.231Z\t\t2022-06-20T15:40:11.424Z\t2022-06-20T15:40:11.700Z\t",
            "2022-06-20T15:40:12.348Z\t2022-06-20T15:40:12.500Z\t2022-06-20T15:40:11.422Z\t",
            "2022-06-20T15:40:11.690Z\t2022-06-20T15:40:11.424Z\t2022-06-20T15:40:12.490Z\t",
            "2022-06-20T15:40:12.350Z\t2133\t2133\t5981\t5981\t5981\t5981\t2133\t2133\t",
            "Example IdP\t0\tNew York\t0\t0\t\t\t0\t0\t0\t\t\t\t\t\t\t\t",
        ),
    ),
    (
        "browser_access csv",
        concat!(
            "Mon Jun 20 15:42:00 2022 Browser Access zpa-lss: ,,unset,2022-06-20T15:41:59.866Z,",
            "2022-06-20T15:41:59.866Z,2022-06-20T15:41:59.866Z,2022-06-20T15:41:59.870Z,",
            "2022-06-20T15:41:59.870Z,2022-06-20T15:41:59.950Z,2022-06-20T15:41:59.951Z,",
            "2022-06-20T15:41:59.951Z,2022-06-20T15:41:59.952Z,0,0,1083,1000,3120,80000,GET,",
            "HTTPS,portal.example.com,/index.html,\"Mozilla/5.0 (Windows NT 10.0; Win64; x64)\",",
            ",jane@example.com,200,612,5120,443,198.51.100.4,61000,,Example Inc,,\"\",",
            "https://portal.example.com,token_created",
        ),
    ),
    (
        "app_connector_status csv",
        concat!(
            "Mon Jun 20 15:43:10 2022 Connector Status zpa-lss: ,Example Inc,",
            "NNz9t5AY1Rq5dzyLbNRB,ZPN_ASSISTANT_BROKER_CONTROL,ZPN_STATUS_AUTHENTICATED,",
            "22.117.1,el7,US-NY-8180,dc1-connector-1,DC1 Connectors,10.0.0.5,203.0.113.50,",
            "40.700000,-74.000000,US,2022-06-20T09:12:00.000Z,,3,41,12,eth0,10.0.0.1,",
            "10.0.0.2,1655200000,1655200100,1,8877665,55432,0,0,7766554,44321,0,0,1234567,",
            "7654321,0",
        ),
    ),
    (
        "audit csv",
        concat!(
            "Audit zpa-lss: ,2022-06-20T15:44:30.000Z,2022-06-20T15:44:30.000Z,",
            "72058304855015574,a12aa12a-1234-aab1-123a-b123456a7890,",
            "wrhjkdghjghfjhgsjfjgfj1l6s16u,,,Sign In,Authentication,,0,72058304855015424,",
            "admin@example.com,0",
        ),
    ),
    (
        // LSS lets the admin edit the Log Stream Content: without its static text, the line has
        // the 14 fields of ZIA's tunnel and audit orders, and fits neither.
        "audit csv without its prefix",
        concat!(
            "2022-06-20T15:44:30.000Z,2022-06-20T15:44:30.000Z,72058304855015574,",
            "a12aa12a-1234-aab1-123a-b123456a7890,wrhjkdghjghfjhgsjfjgfj1l6s16u,,,Sign In,",
            "Authentication,,0,72058304855015424,admin@example.com,0",
        ),
    ),
    (
        "audit tsv",
        concat!(
            "Audit zpa-lss: \t2022-06-20T15:44:30.000Z\t2022-06-20T15:44:30.000Z\t",
            "72058304855015574\ta12aa12a-1234-aab1-123a-b123456a7890\t",
            "wrhjkdghjghfjhgsjfjgfj1l6s16u\t\t\tSign In\tAuthentication\t\t0\t",
            "72058304855015424\tadmin@example.com\t0",
        ),
    ),
];

#[test]
fn zpa_positional_templates_read_as_their_json() {
    let cells = zpa_json_cells();
    for (name, frame) in ZPA_POSITIONAL {
        let out = run(ZONE, &[frame.as_bytes()]);
        if name.ends_with("without its prefix") {
            // Its 14 fields are those of ZIA's tunnel and audit orders, and fit neither.
            assert!(out.records.is_empty(), "{name}: {:?}", out.records);
            assert_eq!(out.dead[0].0, Reason::FieldCount, "{name}");
            continue;
        }
        let log_type = name.split(' ').next().unwrap_or("");
        let cell = cells
            .iter()
            .find(|c| c.log_type == log_type)
            .expect("a cell");
        assert!(out.dead.is_empty(), "{name}: {:?}", out.dead);
        if log_type == "audit" {
            // A sign-in where the JSON frame has a creation: its own values.
            let r = &out.records[0];
            assert_eq!(r["kind"], "zpa.audit", "{name}");
            assert_eq!(r["operation"], "Sign In", "{name}");
            assert_eq!(r["object_type"], "Authentication", "{name}");
            assert_eq!(r["user"], "admin@example.com", "{name}");
            continue;
        }
        let json = run(ZONE, &[cell.frame.as_bytes()]);
        assert_eq!(out.records, json.records, "{name}");
    }
}

/// ZPA User Status in LEEF, the custom LSS template IBM's QRadar DSM guide expects (its
/// "Zscaler Private Access sample event messages", Sample 1, as printed): LSS names but for
/// QRadar's `usrName`, `src`, `srcPreNAT`, `srcBytes`, `dstBytes` and `identHostName`. Its time
/// is only in the syslog header, `%s{LogTimestamp:time}`, a ctime stamp with weekday and year.
pub(crate) const QRADAR_ZPA_USER_STATUS: &str = concat!(
    "<166>Tue Apr 20 22:23:25 2021 zscaler.privateaccess.test LEEF:1.0|Zscaler|ZPA|4.1|",
    "ZPN_STATUS_AUTHENTICATED|cat=ZPA User Status\tCustomer=Zscaler Test\t",
    "usrName=testuser2@domain.test\tSessionID=VbPnANNR+Ua/B2OHOMwx\t",
    "SessionStatus=ZPN_STATUS_AUTHENTICATED\tVersion=2.1.2.81.225296\tZEN=BETA-CA-7987\t",
    "CertificateCN=aaaaabbbbbccccceeeee1111122222=@domain.test\tsrcPreNAT=10.2.3.4\t",
    "src=10.2.2.2\tLatitude=44.972686\tLongitude=-65.860879\tCountryCode=CA\t",
    "TimestampAuthentication:iso8601=2021-04-20T10:35:15.000Z\t",
    "TimestampUnAuthentication:iso8601=\tdstBytes=175590\tsrcBytes=109370\tIdp=TestIdp\t",
    "identHostName=ws1client1\tPlatform=windows\tClientType=zpn_client_type_zapp\t",
    "TrustedNetworks=\tTrustedNetworksNames=\t",
    r#"SAMLAttributes={"FirstName":["testuser2"],"LastName":["testuser2"],"#,
    r#""Email":["testuser2@domain.test"]}"#,
    "\tPosturesHit=\t",
    "PosturesMiss=72057767984103498,72057767984103503,72057767984103590,72057767984103745\t",
    "ZENLatitude=0.000000\tZENLongitude=0.000000\tZENCountryCode=",
);

#[test]
fn qradar_leef_user_status() {
    let cell = cell(
        "user_status",
        "zpa.user_status",
        QRADAR_ZPA_USER_STATUS,
        &[
            ("ts", json!("2021-04-20T22:23:25Z")),
            ("user", json!("testuser2@domain.test")),
            ("device", json!("ws1client1")),
            ("session_id", json!("VbPnANNR+Ua/B2OHOMwx")),
            ("status", json!("ZPN_STATUS_AUTHENTICATED")),
            ("client_ip", json!("10.2.3.4")),
            ("client_public_ip", json!("10.2.2.2")),
            ("bytes_rx", json!(175590)),
            ("bytes_tx", json!(109370)),
            ("authenticated_at", json!("2021-04-20T10:35:15Z")),
        ],
    );
    check("ZPA LEEF", &[cell]);
}

/// ZPA User Activity, App Connector Status and Audit in LEEF, as the custom LSS templates of
/// Cortex XSIAM's guide ("Ingest logs from Zscaler Private Access") and IBM's write them, filled
/// in here: QRadar's `devTime` (LogTimestamp as epoch seconds), `dst`, `proto`, `policy`,
/// `ApplicationName`/`ApplicationSegment`, times named with their `:iso8601` suffix, and the
/// Audit template's lower-case names. Before, the activity record was dated when it arrived
/// and had no server, so no attribution.
pub(crate) const XSIAM_ZPA_USER_ACTIVITY: &str = concat!(
    "LEEF:1.0|Zscaler|ZPA|4.1|close|cat=ZPA User Activity\tdevTime=1618957405\t",
    "Customer=Example Corp\tSessionID=s-1\tConnectionID=s-1,c-1\tInternalReason=\t",
    "ConnectionStatus=close\tproto=6\tDoubleEncryption=0\tusrName=carol@example.com\t",
    "dstPort=443\tsrc=198.51.100.7\tsrcPreNAT=10.1.2.3\tClientLatitude=0.0\t",
    "ClientLongitude=0.0\tClientCountryCode=US\tClientZEN=US-1\tpolicy=Allow IT\t",
    "Connector=dc1-connector\tConnectorZEN=US-2\tConnectorIP=10.0.0.5\tConnectorPort=51146\t",
    "ApplicationName=intranet.corp\tApplicationSegment=Intranet\tAppGroup=Web Apps\t",
    "Server=0\tdst=10.20.0.8\tServerPort=443\tPolicyProcessingTime=28\tServerSetupTime=100\t",
    "TimestampConnectionStart:iso8601=2021-04-20T22:23:20.000Z\t",
    "TimestampConnectionEnd:iso8601=2021-04-20T22:23:25.000Z\t",
    "ZENTotalBytesRxClient=710\tZENBytesRxClient=710\tZENTotalBytesTxClient=20\t",
    "ZENBytesTxClient=20\tIdp=TestIdp",
);

const XSIAM_ZPA_CONNECTOR_STATUS: &str = concat!(
    "LEEF:1.0|Zscaler|ZPA|4.1|ZPN_STATUS_AUTHENTICATED|cat=Connector Status\t",
    "devTime=1618957405\tCustomer=Example Corp\tSessionID=s-2\t",
    "SessionType=ZPN_ASSISTANT_BROKER_CONTROL\tVersion=21.1\tPlatform=el7\tZEN=US-1\t",
    "Connector=dc1-connector\tConnectorGroup=dc1\tsrcPreNAT=10.0.0.5\tsrc=198.51.100.9\t",
    "Latitude=0\tLongitude=0\tCountryCode=US\t",
    "TimestampAuthentication:iso8601=2021-04-20T10:00:00.000Z\t",
    "TimestampUnAuthentication:iso8601=\tCPUUtilization=3\tMemUtilization=40\tServiceCount=2\t",
    "TotalBytesRx=100\tTotalBytesTx=200",
);

const XSIAM_ZPA_AUDIT: &str = concat!(
    "LEEF:1.0|Zscaler|ZPA|4.1|Update|cat=ZPA_Audit_Log\tdevTime=1618957345\t",
    "creationTime:iso8601=2021-04-20T22:23:25.000Z\trequestId=r-1\tsessionId=s-3\t",
    "auditOldValue=old\tauditNewValue=new\tauditOperationType=Update\t",
    "objectType=Application Segment\tobjectName=Intranet\tobjectId=7205\taccountName=7206\t",
    "usrName=admin@example.com",
);

#[test]
fn xsiam_leef_user_activity_connector_status_and_audit() {
    // `cell` keeps its line for the whole run.
    let bad_dev_time: &'static str = XSIAM_ZPA_AUDIT
        .replace("devTime=1618957345", "devTime=soon")
        .leak();
    let cells = [
        cell(
            "user_activity",
            "zpa.user_activity",
            XSIAM_ZPA_USER_ACTIVITY,
            &[
                ("ts", json!("2021-04-20T22:23:20Z")),
                ("user", json!("carol@example.com")),
                ("client_ip", json!("10.1.2.3")),
                ("client_public_ip", json!("198.51.100.7")),
                ("connector_ip", json!("10.0.0.5")),
                ("connector_port", json!(51146)),
                ("dst_ip", json!("10.20.0.8")),
                ("dst_port", json!(443)),
                ("dst_host", json!("intranet.corp")),
                ("transport", json!("tcp")),
                ("app", json!("Intranet")),
                ("policy", json!("Allow IT")),
                ("status", json!("close")),
                ("end", json!("2021-04-20T22:23:25Z")),
            ],
        ),
        cell(
            "app_connector_status",
            "zpa.app_connector_status",
            XSIAM_ZPA_CONNECTOR_STATUS,
            &[("ts", json!("2021-04-20T22:23:25Z"))],
        ),
        cell(
            "audit",
            "zpa.audit",
            XSIAM_ZPA_AUDIT,
            &[
                // `devTime` is the modified time (IBM's template), the record's as in JSON.
                ("ts", json!("2021-04-20T22:22:25Z")),
                ("created", json!("2021-04-20T22:23:25Z")),
                ("user", json!("admin@example.com")),
                ("operation", json!("Update")),
                ("object_type", json!("Application Segment")),
                ("object_name", json!("Intranet")),
                ("request_id", json!("r-1")),
                ("session_id", json!("s-3")),
            ],
        ),
        // A `devTime` that does not read leaves the creation time to date it.
        cell(
            "audit",
            "zpa.audit",
            bad_dev_time,
            &[("ts", json!("2021-04-20T22:23:25Z"))],
        ),
    ];
    check("ZPA LEEF (XSIAM)", &cells);
}
