event ssl_alert(c: connection, level: count);
event ssl_alert(c: connection, level: count, desc: count);
