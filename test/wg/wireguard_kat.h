// Values of a real WireGuard handshake, copied from
// /work/shared/vectors/wireguard_handshake_kat.json (packets: seladb/PcapPlusPlus
// Tests/Packet++Test/PacketExamples/WireGuard*.dat, Unlicense; keys: wireshark/wireshark
// test/suite_decryption.py, test data; derived mac1 keys computed by the vector collector). See
// test/wg/testdata/SOURCES.md.
#pragma once

#include <cstdint>
#include <string_view>

namespace meshvpn::wg::kat {

inline constexpr std::string_view kInitiatorStaticPublic =
    "22081ef4acd1cad28dc2b824cc313ff21acbbba2f2d0ea9576f38f5a1039291e";
inline constexpr std::string_view kResponderStaticPublic =
    "6030adb42b3d7b5279dbf83dbc49f02496bedb1e91a9a6b201832949541f1846";
inline constexpr std::string_view kInitiation =
    "01000000d837d0305fcec7c8e5c8e2e3f7989eef60c228d82329d602b6b1e2bb9d068f89cf9d4d4532780f6d27264f"
    "7b98701fdc27a4ec00aeb6becdbef2332f1b4084cadb93823935c012ae255e7b25eff13940c321fa6bd66a2a87b061"
    "db1430173e937f569349de2856dc5f2616763eeeafc0533b01dd965e7ec76976e28f683d6712000000000000000000"
    "00000000000000";
inline constexpr std::string_view kInitiationMac1 = "533b01dd965e7ec76976e28f683d6712";
inline constexpr std::string_view kResponse =
    "0200000006f47dabd837d030b18d5550bd4042a37a46823ac08db1ec66839bc0ca2d64bc15cd80232b66232faec24a"
    "f8918de1060ff5c98e865d5f35f272214c5260110dc4c61e32cdd8542100000000000000000000000000000000";
inline constexpr std::string_view kResponseMac1 = "f272214c5260110dc4c61e32cdd85421";
inline constexpr std::string_view kTransport0 =
    "0400000006f47dab0000000000000000a4ebc12ee3f990da18033a0789c04e2700f6f5c271d42ac4b4d6262e666549"
    "b445a7436e829bffb6ac65f05648bc0c391fe7c5884874376127164940188f03dba67af8388eaab76c593628bf9dc7"
    "be03346d912e916dad862545454701364f2d2486d7ced4c8642ce547ddb26ef6a46b";
inline constexpr std::string_view kMac1KeyForResponder =
    "778849ac488e391c7f5e43b14c65f60277ef40ff49eb3353615b518149968f6b";
inline constexpr std::string_view kMac1KeyForInitiator =
    "a5987c7b7abc4b279fee2410f5789840af28c53fb57a99f811ac976e860bfa3f";
inline constexpr std::string_view kTimestamp = "400000005b52647b15405610";
inline constexpr uint32_t kInitiatorSenderIndex = 818952152;
inline constexpr uint32_t kResponderSenderIndex = 2877158406;

}  // namespace meshvpn::wg::kat
