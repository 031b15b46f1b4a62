args: --login-delay 60 --expire 30

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
S: EXPIRE 30
S: LOGIN-DELAY 60 USER
S: IMPLEMENTATION pop3d
S: .
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
S: EXPIRE 30
S: LOGIN-DELAY 60
S: IMPLEMENTATION pop3d
S: .
C: QUIT
S: +OK bye, 0 messages deleted

after:
    me/
    me/.pop3d.login
    me/1.eml
    me/2.eml
    me/3.eml
