S: +OK pop3d ready
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
C: UTF8
S: +OK UTF8 enabled
C: UTF8 USER
S: -ERR UTF8 takes no argument
C: USER jos\xc3\xa9
S: +OK send PASS
C: PASS passw0rd
S: +OK maildrop has 1 messages (29 octets)
C: UTF8
S: -ERR command not valid in this state
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
