S: +OK pop3d ready
C: AUTH CRAM-MD5
S: -ERR unsupported authentication mechanism
C: AUTH XOAUTH2 dXNlcj1tZQ==
S: -ERR unsupported authentication mechanism
C: AUTH PLAINX AG1lAHBhc3N3MHJk
S: -ERR unsupported authentication mechanism
C: AUTH APOP
S: -ERR unsupported authentication mechanism
C: QUIT
S: +OK bye
