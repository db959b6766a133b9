# "Your turn is near": texts to the phone numbers citizens leave at the kiosk, through a modem or Zalo (docs/phone.md).
