//! The only `unsafe` in Tributary: librdkafka's ACL and SCRAM admin calls, which rust-rdkafka
//! does not wrap. Everything here is blocking (each call waits on its own librdkafka queue), so
//! callers run it on a blocking thread.
//!
//! Ownership rules followed throughout (see librdkafka's rdkafka.h):
//! - objects we create (`AclBinding`, filters, SCRAM alterations, admin options, queues) are ours
//!   and are destroyed by the RAII guards below whether the call succeeded or not;
//! - everything read from a result event belongs to the event: strings are copied out before the
//!   event is destroyed;
//! - every `CString` passed in stays bound to a local for the whole call.

use std::{
    ffi::{CStr, CString, c_char, c_int},
    ptr,
    time::Duration,
};

use rdkafka::{
    admin::AdminClient,
    bindings as rd,
    client::DefaultClientContext,
    types::{RDKafkaErrorCode, RDKafkaRespErr},
};

use crate::acl::{
    AclBinding, AclBindingFilter, AclOperation, AclPermission, PatternType, ResourceType,
};
use crate::error::KafkaAdminError;
use crate::scram::{ScramCredentialInfo, ScramUserDescription};

const ERRSTR_LEN: usize = 512;

/// An owned result event.
struct Event(*mut rd::rd_kafka_event_t);

impl Drop for Event {
    fn drop(&mut self) {
        // SAFETY: the event came from rd_kafka_queue_poll and is destroyed exactly once.
        unsafe { rd::rd_kafka_event_destroy(self.0) }
    }
}

/// An owned queue that receives exactly one admin result.
struct Queue(*mut rd::rd_kafka_queue_t);

impl Drop for Queue {
    fn drop(&mut self) {
        // SAFETY: created by rd_kafka_queue_new, destroyed once.
        unsafe { rd::rd_kafka_queue_destroy(self.0) }
    }
}

struct Options(*mut rd::rd_kafka_AdminOptions_t);

impl Drop for Options {
    fn drop(&mut self) {
        // SAFETY: created by rd_kafka_AdminOptions_new, destroyed once; the admin call copies it.
        unsafe { rd::rd_kafka_AdminOptions_destroy(self.0) }
    }
}

/// Owned ACL bindings or filters (same C type) passed to Create/DeleteAcls.
struct Bindings(Vec<*mut rd::rd_kafka_AclBinding_t>);

impl Drop for Bindings {
    fn drop(&mut self) {
        for binding in self.0.drain(..) {
            // SAFETY: each pointer came from rd_kafka_AclBinding(Filter)_new and is not shared.
            unsafe { rd::rd_kafka_AclBinding_destroy(binding) }
        }
    }
}

struct Alterations(Vec<*mut rd::rd_kafka_UserScramCredentialAlteration_t>);

impl Drop for Alterations {
    fn drop(&mut self) {
        for alteration in self.0.drain(..) {
            // SAFETY: each pointer came from rd_kafka_UserScramCredential{Upsertion,Deletion}_new.
            unsafe { rd::rd_kafka_UserScramCredentialAlteration_destroy(alteration) }
        }
    }
}

fn cstring(field: &'static str, value: &str) -> Result<CString, KafkaAdminError> {
    CString::new(value).map_err(|_| KafkaAdminError::InvalidArgument {
        field,
        reason: "must not contain NUL bytes".into(),
    })
}

/// Copies a C string owned by librdkafka; NULL becomes an empty string.
///
/// # Safety
/// `p` must be NULL or point to a NUL-terminated string valid for the duration of the call.
unsafe fn copy_str(p: *const c_char) -> String {
    if p.is_null() {
        String::new()
    } else {
        // SAFETY: guaranteed by the caller.
        unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
    }
}

/// Converts a per-item `rd_kafka_error_t` (NULL = success) into our error.
///
/// # Safety
/// `e` must be NULL or a valid error owned by a live event.
unsafe fn item_error(e: *const rd::rd_kafka_error_t) -> Option<(RDKafkaErrorCode, String)> {
    if e.is_null() {
        return None;
    }
    // SAFETY: e is valid per the caller.
    let code = unsafe { rd::rd_kafka_error_code(e) };
    if code == RDKafkaRespErr::RD_KAFKA_RESP_ERR_NO_ERROR {
        return None;
    }
    // SAFETY: as above; the string lives as long as the error.
    let message = unsafe { copy_str(rd::rd_kafka_error_string(e)) };
    Some((RDKafkaErrorCode::from(code), message))
}

/// Runs one admin request on a private queue and waits for its result event.
fn call(
    admin: &AdminClient<DefaultClientContext>,
    op: rd::rd_kafka_admin_op_t,
    expected: c_int,
    timeout: Duration,
    submit: impl FnOnce(
        *mut rd::rd_kafka_t,
        *const rd::rd_kafka_AdminOptions_t,
        *mut rd::rd_kafka_queue_t,
    ),
) -> Result<Event, KafkaAdminError> {
    let rk = admin.inner().native_ptr();
    let timeout_ms = c_int::try_from(timeout.as_millis()).unwrap_or(c_int::MAX);
    // SAFETY: rk is the live handle of `admin`, which outlives this function.
    let queue = Queue(unsafe { rd::rd_kafka_queue_new(rk) });
    // SAFETY: as above.
    let options = Options(unsafe { rd::rd_kafka_AdminOptions_new(rk, op) });
    let mut errstr = [0 as c_char; ERRSTR_LEN];
    // SAFETY: options is valid; errstr has the size we pass.
    let err = unsafe {
        rd::rd_kafka_AdminOptions_set_request_timeout(
            options.0,
            timeout_ms,
            errstr.as_mut_ptr(),
            ERRSTR_LEN,
        )
    };
    if err != RDKafkaRespErr::RD_KAFKA_RESP_ERR_NO_ERROR {
        // SAFETY: librdkafka wrote a NUL-terminated message into errstr.
        let reason = unsafe { copy_str(errstr.as_ptr()) };
        return Err(KafkaAdminError::InvalidArgument {
            field: "timeout",
            reason,
        });
    }
    submit(rk, options.0, queue.0);
    drop(options);

    // The request timeout bounds the broker round trip; the extra second covers local queueing.
    // SAFETY: queue is valid.
    let raw = unsafe { rd::rd_kafka_queue_poll(queue.0, timeout_ms.saturating_add(1000)) };
    if raw.is_null() {
        return Err(KafkaAdminError::Timeout(timeout));
    }
    let event = Event(raw);
    // SAFETY: event is valid until dropped.
    let kind = unsafe { rd::rd_kafka_event_type(event.0) };
    if kind != expected {
        return Err(KafkaAdminError::Protocol(format!(
            "expected admin result event {expected}, got {kind}"
        )));
    }
    // SAFETY: event is valid.
    let code = unsafe { rd::rd_kafka_event_error(event.0) };
    if code != RDKafkaRespErr::RD_KAFKA_RESP_ERR_NO_ERROR {
        // SAFETY: the string belongs to the event, copied before it is dropped.
        let message = unsafe { copy_str(rd::rd_kafka_event_error_string(event.0)) };
        return Err(KafkaAdminError::from_code(
            RDKafkaErrorCode::from(code),
            message,
        ));
    }
    Ok(event)
}

fn resource_type(value: Option<ResourceType>) -> rd::rd_kafka_ResourceType_t {
    use rd::rd_kafka_ResourceType_t as R;
    match value {
        None => R::RD_KAFKA_RESOURCE_ANY,
        Some(ResourceType::Topic) => R::RD_KAFKA_RESOURCE_TOPIC,
        Some(ResourceType::Group) => R::RD_KAFKA_RESOURCE_GROUP,
        Some(ResourceType::Cluster) => R::RD_KAFKA_RESOURCE_BROKER,
        Some(ResourceType::TransactionalId) => R::RD_KAFKA_RESOURCE_TRANSACTIONAL_ID,
    }
}

fn resource_type_from(value: rd::rd_kafka_ResourceType_t) -> Result<ResourceType, KafkaAdminError> {
    use rd::rd_kafka_ResourceType_t as R;
    Ok(match value {
        R::RD_KAFKA_RESOURCE_TOPIC => ResourceType::Topic,
        R::RD_KAFKA_RESOURCE_GROUP => ResourceType::Group,
        R::RD_KAFKA_RESOURCE_BROKER => ResourceType::Cluster,
        R::RD_KAFKA_RESOURCE_TRANSACTIONAL_ID => ResourceType::TransactionalId,
        other => {
            return Err(KafkaAdminError::Protocol(format!(
                "unexpected resource type {other:?}"
            )));
        }
    })
}

fn pattern_type(value: Option<PatternType>) -> rd::rd_kafka_ResourcePatternType_t {
    use rd::rd_kafka_ResourcePatternType_t as P;
    match value {
        None => P::RD_KAFKA_RESOURCE_PATTERN_ANY,
        Some(PatternType::Literal) => P::RD_KAFKA_RESOURCE_PATTERN_LITERAL,
        Some(PatternType::Prefixed) => P::RD_KAFKA_RESOURCE_PATTERN_PREFIXED,
    }
}

fn pattern_type_from(
    value: rd::rd_kafka_ResourcePatternType_t,
) -> Result<PatternType, KafkaAdminError> {
    use rd::rd_kafka_ResourcePatternType_t as P;
    Ok(match value {
        P::RD_KAFKA_RESOURCE_PATTERN_LITERAL => PatternType::Literal,
        P::RD_KAFKA_RESOURCE_PATTERN_PREFIXED => PatternType::Prefixed,
        other => {
            return Err(KafkaAdminError::Protocol(format!(
                "unexpected pattern type {other:?}"
            )));
        }
    })
}

fn operation(value: Option<AclOperation>) -> rd::rd_kafka_AclOperation_t {
    use rd::rd_kafka_AclOperation_t as O;
    match value {
        None => O::RD_KAFKA_ACL_OPERATION_ANY,
        Some(AclOperation::All) => O::RD_KAFKA_ACL_OPERATION_ALL,
        Some(AclOperation::Read) => O::RD_KAFKA_ACL_OPERATION_READ,
        Some(AclOperation::Write) => O::RD_KAFKA_ACL_OPERATION_WRITE,
        Some(AclOperation::Create) => O::RD_KAFKA_ACL_OPERATION_CREATE,
        Some(AclOperation::Delete) => O::RD_KAFKA_ACL_OPERATION_DELETE,
        Some(AclOperation::Alter) => O::RD_KAFKA_ACL_OPERATION_ALTER,
        Some(AclOperation::Describe) => O::RD_KAFKA_ACL_OPERATION_DESCRIBE,
        Some(AclOperation::ClusterAction) => O::RD_KAFKA_ACL_OPERATION_CLUSTER_ACTION,
        Some(AclOperation::DescribeConfigs) => O::RD_KAFKA_ACL_OPERATION_DESCRIBE_CONFIGS,
        Some(AclOperation::AlterConfigs) => O::RD_KAFKA_ACL_OPERATION_ALTER_CONFIGS,
        Some(AclOperation::IdempotentWrite) => O::RD_KAFKA_ACL_OPERATION_IDEMPOTENT_WRITE,
    }
}

fn operation_from(value: rd::rd_kafka_AclOperation_t) -> Result<AclOperation, KafkaAdminError> {
    use rd::rd_kafka_AclOperation_t as O;
    Ok(match value {
        O::RD_KAFKA_ACL_OPERATION_ALL => AclOperation::All,
        O::RD_KAFKA_ACL_OPERATION_READ => AclOperation::Read,
        O::RD_KAFKA_ACL_OPERATION_WRITE => AclOperation::Write,
        O::RD_KAFKA_ACL_OPERATION_CREATE => AclOperation::Create,
        O::RD_KAFKA_ACL_OPERATION_DELETE => AclOperation::Delete,
        O::RD_KAFKA_ACL_OPERATION_ALTER => AclOperation::Alter,
        O::RD_KAFKA_ACL_OPERATION_DESCRIBE => AclOperation::Describe,
        O::RD_KAFKA_ACL_OPERATION_CLUSTER_ACTION => AclOperation::ClusterAction,
        O::RD_KAFKA_ACL_OPERATION_DESCRIBE_CONFIGS => AclOperation::DescribeConfigs,
        O::RD_KAFKA_ACL_OPERATION_ALTER_CONFIGS => AclOperation::AlterConfigs,
        O::RD_KAFKA_ACL_OPERATION_IDEMPOTENT_WRITE => AclOperation::IdempotentWrite,
        other => {
            return Err(KafkaAdminError::Protocol(format!(
                "unexpected ACL operation {other:?}"
            )));
        }
    })
}

fn permission(value: Option<AclPermission>) -> rd::rd_kafka_AclPermissionType_t {
    use rd::rd_kafka_AclPermissionType_t as P;
    match value {
        None => P::RD_KAFKA_ACL_PERMISSION_TYPE_ANY,
        Some(AclPermission::Allow) => P::RD_KAFKA_ACL_PERMISSION_TYPE_ALLOW,
        Some(AclPermission::Deny) => P::RD_KAFKA_ACL_PERMISSION_TYPE_DENY,
    }
}

fn permission_from(
    value: rd::rd_kafka_AclPermissionType_t,
) -> Result<AclPermission, KafkaAdminError> {
    use rd::rd_kafka_AclPermissionType_t as P;
    Ok(match value {
        P::RD_KAFKA_ACL_PERMISSION_TYPE_ALLOW => AclPermission::Allow,
        P::RD_KAFKA_ACL_PERMISSION_TYPE_DENY => AclPermission::Deny,
        other => {
            return Err(KafkaAdminError::Protocol(format!(
                "unexpected permission {other:?}"
            )));
        }
    })
}

/// Builds one native binding (`filter == false`) or filter; `None` fields mean "any".
#[allow(clippy::too_many_arguments)]
fn new_binding(
    filter: bool,
    restype: Option<ResourceType>,
    name: Option<&str>,
    pattern: Option<PatternType>,
    principal: Option<&str>,
    host: Option<&str>,
    op: Option<AclOperation>,
    perm: Option<AclPermission>,
) -> Result<*mut rd::rd_kafka_AclBinding_t, KafkaAdminError> {
    let name = name.map(|n| cstring("resource name", n)).transpose()?;
    let principal = principal.map(|p| cstring("principal", p)).transpose()?;
    let host = host.map(|h| cstring("host", h)).transpose()?;
    let as_ptr = |s: &Option<CString>| s.as_ref().map_or(ptr::null(), |c| c.as_ptr());
    let mut errstr = [0 as c_char; ERRSTR_LEN];
    let constructor = if filter {
        rd::rd_kafka_AclBindingFilter_new
    } else {
        rd::rd_kafka_AclBinding_new
    };
    // SAFETY: the CStrings live until the end of this function and librdkafka copies them;
    // errstr has the size we pass.
    let binding = unsafe {
        constructor(
            resource_type(restype),
            as_ptr(&name),
            pattern_type(pattern),
            as_ptr(&principal),
            as_ptr(&host),
            operation(op),
            permission(perm),
            errstr.as_mut_ptr(),
            ERRSTR_LEN,
        )
    };
    if binding.is_null() {
        // SAFETY: librdkafka wrote a NUL-terminated message.
        let reason = unsafe { copy_str(errstr.as_ptr()) };
        return Err(KafkaAdminError::InvalidArgument {
            field: "acl",
            reason,
        });
    }
    Ok(binding)
}

/// Copies an ACL binding that belongs to a result event.
///
/// # Safety
/// `b` must be a valid binding owned by a live event.
unsafe fn read_binding(b: *const rd::rd_kafka_AclBinding_t) -> Result<AclBinding, KafkaAdminError> {
    // SAFETY: b is valid per the caller; every accessor only reads it.
    unsafe {
        Ok(AclBinding {
            resource_type: resource_type_from(rd::rd_kafka_AclBinding_restype(b))?,
            resource_name: copy_str(rd::rd_kafka_AclBinding_name(b)),
            pattern_type: pattern_type_from(rd::rd_kafka_AclBinding_resource_pattern_type(b))?,
            principal: copy_str(rd::rd_kafka_AclBinding_principal(b)),
            host: copy_str(rd::rd_kafka_AclBinding_host(b)),
            operation: operation_from(rd::rd_kafka_AclBinding_operation(b))?,
            permission: permission_from(rd::rd_kafka_AclBinding_permission_type(b))?,
        })
    }
}

/// Views a librdkafka result array as a slice (empty when NULL).
///
/// # Safety
/// `arr` must be NULL or point to `len` valid pointers owned by a live event.
unsafe fn result_slice<'a, T>(arr: *mut *const T, len: usize) -> &'a [*const T] {
    if arr.is_null() || len == 0 {
        &[]
    } else {
        // SAFETY: guaranteed by the caller.
        unsafe { std::slice::from_raw_parts(arr, len) }
    }
}

fn filter_binding(f: &AclBindingFilter) -> Result<*mut rd::rd_kafka_AclBinding_t, KafkaAdminError> {
    new_binding(
        true,
        f.resource_type,
        f.resource_name.as_deref(),
        f.pattern_type,
        f.principal.as_deref(),
        f.host.as_deref(),
        f.operation,
        f.permission,
    )
}

pub(crate) fn create_acls(
    admin: &AdminClient<DefaultClientContext>,
    acls: &[AclBinding],
    timeout: Duration,
) -> Result<(), KafkaAdminError> {
    if acls.is_empty() {
        return Ok(());
    }
    let mut bindings = Bindings(Vec::with_capacity(acls.len()));
    for acl in acls {
        bindings.0.push(new_binding(
            false,
            Some(acl.resource_type),
            Some(&acl.resource_name),
            Some(acl.pattern_type),
            Some(&acl.principal),
            Some(&acl.host),
            Some(acl.operation),
            Some(acl.permission),
        )?);
    }
    let event = call(
        admin,
        rd::rd_kafka_admin_op_t::RD_KAFKA_ADMIN_OP_CREATEACLS,
        rd::RD_KAFKA_EVENT_CREATEACLS_RESULT,
        timeout,
        // SAFETY: the bindings stay alive (owned by `bindings`) until after the call returns;
        // librdkafka copies them.
        |rk, opts, q| unsafe {
            rd::rd_kafka_CreateAcls(rk, bindings.0.as_mut_ptr(), bindings.0.len(), opts, q)
        },
    )?;
    // SAFETY: event is a CreateAcls result; results belong to it and are read before drop.
    unsafe {
        let result = rd::rd_kafka_event_CreateAcls_result(event.0);
        let mut count = 0usize;
        let arr = rd::rd_kafka_CreateAcls_result_acls(result, &mut count);
        for (index, item) in result_slice(arr, count).iter().enumerate() {
            if let Some((code, message)) = item_error(rd::rd_kafka_acl_result_error(*item)) {
                return Err(KafkaAdminError::Item {
                    index,
                    source: Box::new(KafkaAdminError::from_code(code, message)),
                });
            }
        }
    }
    Ok(())
}

pub(crate) fn describe_acls(
    admin: &AdminClient<DefaultClientContext>,
    filter: &AclBindingFilter,
    timeout: Duration,
) -> Result<Vec<AclBinding>, KafkaAdminError> {
    let filter = Bindings(vec![filter_binding(filter)?]);
    let event = call(
        admin,
        rd::rd_kafka_admin_op_t::RD_KAFKA_ADMIN_OP_DESCRIBEACLS,
        rd::RD_KAFKA_EVENT_DESCRIBEACLS_RESULT,
        timeout,
        // SAFETY: the filter is alive for the call and copied by librdkafka.
        |rk, opts, q| unsafe { rd::rd_kafka_DescribeAcls(rk, filter.0[0], opts, q) },
    )?;
    // SAFETY: event is a DescribeAcls result; bindings are copied before it is dropped.
    unsafe {
        let result = rd::rd_kafka_event_DescribeAcls_result(event.0);
        let mut count = 0usize;
        let arr = rd::rd_kafka_DescribeAcls_result_acls(result, &mut count);
        result_slice(arr, count)
            .iter()
            .map(|b| read_binding(*b))
            .collect()
    }
}

pub(crate) fn delete_acls(
    admin: &AdminClient<DefaultClientContext>,
    filters: &[AclBindingFilter],
    timeout: Duration,
) -> Result<Vec<AclBinding>, KafkaAdminError> {
    if filters.is_empty() {
        return Ok(Vec::new());
    }
    let mut native = Bindings(Vec::with_capacity(filters.len()));
    for f in filters {
        native.0.push(filter_binding(f)?);
    }
    let event = call(
        admin,
        rd::rd_kafka_admin_op_t::RD_KAFKA_ADMIN_OP_DELETEACLS,
        rd::RD_KAFKA_EVENT_DELETEACLS_RESULT,
        timeout,
        // SAFETY: the filters are alive for the call and copied by librdkafka.
        |rk, opts, q| unsafe {
            rd::rd_kafka_DeleteAcls(rk, native.0.as_mut_ptr(), native.0.len(), opts, q)
        },
    )?;
    let mut deleted = Vec::new();
    // SAFETY: event is a DeleteAcls result; everything is copied before it is dropped.
    unsafe {
        let result = rd::rd_kafka_event_DeleteAcls_result(event.0);
        let mut count = 0usize;
        let arr = rd::rd_kafka_DeleteAcls_result_responses(result, &mut count);
        for (index, response) in result_slice(arr, count).iter().enumerate() {
            if let Some((code, message)) =
                item_error(rd::rd_kafka_DeleteAcls_result_response_error(*response))
            {
                return Err(KafkaAdminError::Item {
                    index,
                    source: Box::new(KafkaAdminError::from_code(code, message)),
                });
            }
            let mut matching = 0usize;
            let acls =
                rd::rd_kafka_DeleteAcls_result_response_matching_acls(*response, &mut matching);
            for acl in result_slice(acls, matching) {
                deleted.push(read_binding(*acl)?);
            }
        }
    }
    Ok(deleted)
}

/// Upserts (`Some(password)`) or deletes (`None`) a SCRAM-SHA-512 credential.
pub(crate) fn alter_scram(
    admin: &AdminClient<DefaultClientContext>,
    user: &str,
    password: Option<&str>,
    iterations: i32,
    timeout: Duration,
) -> Result<(), KafkaAdminError> {
    let c_user = cstring("user", user)?;
    let mechanism = rd::rd_kafka_ScramMechanism_t::RD_KAFKA_SCRAM_MECHANISM_SHA_512;
    // SAFETY: c_user and the password bytes outlive the constructor, which copies them. A NULL salt
    // makes librdkafka generate a random one (it links OpenSSL through the `ssl` feature).
    let alteration = unsafe {
        match password {
            Some(pw) => rd::rd_kafka_UserScramCredentialUpsertion_new(
                c_user.as_ptr(),
                mechanism,
                iterations,
                pw.as_ptr(),
                pw.len(),
                ptr::null(),
                0,
            ),
            None => rd::rd_kafka_UserScramCredentialDeletion_new(c_user.as_ptr(), mechanism),
        }
    };
    if alteration.is_null() {
        return Err(KafkaAdminError::InvalidArgument {
            field: "scram credential",
            reason: "librdkafka refused the alteration".into(),
        });
    }
    let mut alterations = Alterations(vec![alteration]);
    let event = call(
        admin,
        rd::rd_kafka_admin_op_t::RD_KAFKA_ADMIN_OP_ALTERUSERSCRAMCREDENTIALS,
        rd::RD_KAFKA_EVENT_ALTERUSERSCRAMCREDENTIALS_RESULT,
        timeout,
        // SAFETY: the alterations are alive for the call and copied by librdkafka.
        |rk, opts, q| unsafe {
            rd::rd_kafka_AlterUserScramCredentials(
                rk,
                alterations.0.as_mut_ptr(),
                alterations.0.len(),
                opts,
                q,
            )
        },
    )?;
    // SAFETY: event is an AlterUserScramCredentials result.
    unsafe {
        let result = rd::rd_kafka_event_AlterUserScramCredentials_result(event.0);
        let mut count = 0usize;
        let arr = rd::rd_kafka_AlterUserScramCredentials_result_responses(result, &mut count);
        for response in result_slice(arr, count) {
            if let Some((code, message)) =
                item_error(rd::rd_kafka_AlterUserScramCredentials_result_response_error(*response))
            {
                return Err(KafkaAdminError::from_code(code, message));
            }
        }
    }
    Ok(())
}

pub(crate) fn describe_scram(
    admin: &AdminClient<DefaultClientContext>,
    users: &[&str],
    timeout: Duration,
) -> Result<Vec<ScramUserDescription>, KafkaAdminError> {
    let owned: Vec<CString> = users
        .iter()
        .map(|u| cstring("user", u))
        .collect::<Result<_, _>>()?;
    let mut pointers: Vec<*const c_char> = owned.iter().map(|c| c.as_ptr()).collect();
    let event = call(
        admin,
        rd::rd_kafka_admin_op_t::RD_KAFKA_ADMIN_OP_DESCRIBEUSERSCRAMCREDENTIALS,
        rd::RD_KAFKA_EVENT_DESCRIBEUSERSCRAMCREDENTIALS_RESULT,
        timeout,
        // SAFETY: `owned` keeps every string alive for the call; an empty list means "all users".
        |rk, opts, q| unsafe {
            rd::rd_kafka_DescribeUserScramCredentials(
                rk,
                pointers.as_mut_ptr(),
                pointers.len(),
                opts,
                q,
            )
        },
    )?;
    let mut out = Vec::new();
    // SAFETY: event is a DescribeUserScramCredentials result; all data is copied before drop.
    unsafe {
        let result = rd::rd_kafka_event_DescribeUserScramCredentials_result(event.0);
        let mut count = 0usize;
        let arr = rd::rd_kafka_DescribeUserScramCredentials_result_descriptions(result, &mut count);
        for description in result_slice(arr, count) {
            let user = copy_str(rd::rd_kafka_UserScramCredentialsDescription_user(
                *description,
            ));
            if let Some((code, message)) = item_error(
                rd::rd_kafka_UserScramCredentialsDescription_error(*description),
            ) {
                if code == RDKafkaErrorCode::ResourceNotFound {
                    out.push(ScramUserDescription {
                        user,
                        credentials: Vec::new(),
                    });
                    continue;
                }
                return Err(KafkaAdminError::from_code(code, message));
            }
            let n = rd::rd_kafka_UserScramCredentialsDescription_scramcredentialinfo_count(
                *description,
            );
            let mut credentials = Vec::with_capacity(n);
            for i in 0..n {
                let info = rd::rd_kafka_UserScramCredentialsDescription_scramcredentialinfo(
                    *description,
                    i,
                );
                let mechanism = match rd::rd_kafka_ScramCredentialInfo_mechanism(info) {
                    rd::rd_kafka_ScramMechanism_t::RD_KAFKA_SCRAM_MECHANISM_SHA_256 => {
                        "SCRAM-SHA-256"
                    }
                    rd::rd_kafka_ScramMechanism_t::RD_KAFKA_SCRAM_MECHANISM_SHA_512 => {
                        "SCRAM-SHA-512"
                    }
                    _ => "UNKNOWN",
                };
                credentials.push(ScramCredentialInfo {
                    mechanism: mechanism.to_owned(),
                    iterations: rd::rd_kafka_ScramCredentialInfo_iterations(info),
                });
            }
            out.push(ScramUserDescription { user, credentials });
        }
    }
    Ok(out)
}
