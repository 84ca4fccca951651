event ssl_alert(c: connection, level: count);

type Alert = record { level : uint8; };

on Alert -> event ssl_alrt($conn, self.level);
