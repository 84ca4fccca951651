event ssl_alert(c: connection, level: count, desc: string);

type Alert = record { level : uint8; desc : uint8; };

on Alert -> event ssl_alert($conn, self.level, self.desc);
