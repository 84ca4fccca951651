type Alert = record { level : uint8; };
enum Alert : uint8 { warning = 1 }
