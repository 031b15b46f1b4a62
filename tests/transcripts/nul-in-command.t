S: +OK pop3d ready
C: US\x00ER me
S: -ERR invalid character in command
@login me
S: +OK maildrop has 3 messages (454 octets)
C: NO\x00OP
S: -ERR invalid character in command
C: STAT\x00
S: -ERR invalid character in command
C: \x00
S: -ERR invalid character in command
C: QUIT\x00
S: -ERR invalid character in command
C: LIST 1\x00
S: -ERR invalid character in command
C: NOOP
S: +OK
C: QUIT
S: +OK bye, 0 messages deleted
