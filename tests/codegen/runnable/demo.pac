# A small protocol exercising every construct the generator supports; compiled for real by
# tests/build.rs and run on bytes by tests/tests/codegen_run.rs.

## Record content types.
enum ContentType : uint8 {
    change_cipher_spec = 20,
    alert              = 21,
    handshake          = 22,
    application_data   = 23 "appdata",
}

## Key-exchange classes.
enum Kex : uint8 { UNKNOWN = 0, RSA = 1, ECDHE = 2 }

## Cipher suites.
enum Suite : uint16 {
    TLS_RSA_WITH_NULL = 0x0001,
    TLS_ECDHE_RSA_X   = 0xc02f,
    TLS_ECDHE_OLD     = 0xc030,
    TLS_NULL_ALIAS    = 0x0001 &alias,
}

## The key exchange of each suite.
derive Suite.kex : Kex by prefix {
    "TLS_RSA_"   -> RSA,
    "TLS_ECDHE_" -> ECDHE,
    default      -> UNKNOWN,
}

## Two halves of a 16-bit value.
zeek record Pair { hi: count, lo: count }

context {
    ## True for the originator.
    is_orig: bool,
    version: count,
}

## One per record.
## is_orig: the direction.
## content_type: the record's type.
## length: bytes of the whole record.
event demo_record(c: connection, is_orig: bool, content_type: count, length: count);
## One per item.
event demo_item(c: connection, kind: count, val: string, raw: string);
## One per hello.
event demo_hello(c: connection, version: count, session: string, suites: index_vec, pairs: vector of Pair, names: string_vec, kex: count);

## A record: header, then a body selected by the content type.
type Record = record {
    content_type : ContentType;
    version      : uint16;
    len_body     : uint16;
    body         : case content_type of {
        ContentType::handshake          -> hello  : Hello(version);
        ContentType::alert              -> alerts : Alert[] &restofdata;
        ContentType::change_cipher_spec -> empty;
        default                         -> unknown : bytestring &restofdata;
    } &length = len_body;
} &exportsourcedata;

type Alert = record {
    level       : uint8 &check(level == 1 || level == 2);
    description : uint8;
};

type Hello(record_version: uint16) = record {
    version     : uint16;
    len_session : uint8 &check(len_session <= 32);
    session_id  : bytestring &length = len_session;
    len_suites  : uint16;
    suites      : Suite[] &length = len_suites;
    count       : uint8;
    pairs       : uint16[count];
    len_names   : uint8;
    names       : Item[] &length = len_names;
    let is_new  : bool = version >= 0x0303 && record_version != 0;
    exts        : Extensions &optional;
};

type Extensions = record {
    len_items : uint16;
    items     : Item[] &length = len_items;
};

type Item = record {
    type     : uint8;
    len_data : uint8;
    data     : bytestring &length = len_data &exportsourcedata;
    flags    : uint8 &if(type == 7);
};

on Item -> event demo_item($conn, self.type, self.data, self.data.$sourcedata);
on Hello if self.is_new -> event demo_hello($conn, self.version, zero_pad(self.session_id, 32),
        self.suites, [Pair { hi: p >> 8, lo: p & 0xff } for p in self.pairs],
        [i.data for i in self.names if i.type == 1], 0);
on Record -> event demo_record($conn, $is_orig, self.content_type, len(self.$sourcedata));

# Members that later expressions read although they are lists, records or raw bytes: the
# one-pass `visit` builds them again from where they started (tests/tests/visit_runnable.rs).
type Header = record {
    kind : uint8;
    size : uint8;
};

type Nested = record {
    hdr   : Header;
    items : uint8[] &length = hdr.size &check(len(items) > 0);
    data  : bytestring &length = len(items) &exportsourcedata;
    pairs : Alert[] &length = len(data.$sourcedata) * 2;
    let total : uint16 = len(data.$sourcedata) + hdr.kind;
};
