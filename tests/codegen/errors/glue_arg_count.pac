event ssl_alert(c: connection, is_client: bool, level: count, desc: count);

type Alert = record { level : uint8; desc : uint8; };

on Alert -> event ssl_alert($conn, self.level, self.desc);
