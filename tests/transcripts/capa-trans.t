# RFC 2449 s.5: what CAPA lists before login it lists after login too,
# though AUTH and UTF8 are then refused; STLS is the exception (see
# capas[] in session.c).
S: +OK pop3d ready
@login me
S: +OK maildrop has 3 messages (454 octets)
C: CAPA
S: +OK capability list follows
S: TOP
S: UIDL
S: USER
S: SASL PLAIN LOGIN
S: UTF8 USER
S: RESP-CODES
S: AUTH-RESP-CODE
S: PIPELINING
S: UID-PARAM
S: DELI
S: SLEE-WAKE
S: EXPIRE NEVER
S: IMPLEMENTATION pop3d
S: .
C: QUIT
S: +OK bye, 0 messages deleted
